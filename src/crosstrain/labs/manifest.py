"""``lab.yaml``: the manifest of a lab, validated with pydantic.

A malformed manifest raises one :class:`CrosstrainError` naming the file, the field and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crosstrain.errors import CrosstrainError

TRACKS = ("ml-for-cloud-engineers", "cloud-for-data-scientists")
SLUG = r"^\d\d-[a-z0-9]+(-[a-z0-9]+)*$"
STEP_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"

# What to write, per field, when a manifest gets it wrong.
FIXES = {
    "id": "use the folder name, two digits then a kebab-case name, e.g. id: 00-sandbox-orientation",
    "title": "give a short title, e.g. title: Sandbox orientation",
    "summary": "give one sentence saying what the learner will be able to do",
    "tracks": f"list one or more of: {', '.join(TRACKS)}",
    "minutes": "give the expected time as a whole number of minutes, e.g. minutes: 30",
    "level": "use one of: intro, intermediate, advanced",
    "prerequisites": "list the ids of labs to do first, e.g. [00-sandbox-orientation], or []",
    "services": "list the AWS services the lab uses, e.g. [s3, dynamodb]",
    "steps": "list steps as {id: kebab-case, title: text, points: whole number >= 1}",
    "submission": "give notebooks: [file.ipynb], scripts: [file.py] and time_limit: seconds",
    "sandbox": "give enforce_iam: true or false",
}
DOCS = "see docs/authoring/lab-format.md"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(Strict):
    id: str = Field(pattern=STEP_ID)
    title: str = Field(min_length=1)
    points: int = Field(ge=1)


class Submission(Strict):
    """What a graded submission runs, in order, each within ``time_limit`` seconds."""

    notebooks: list[str] = []
    scripts: list[str] = []
    time_limit: int = Field(default=300, ge=1)


class SandboxSettings(Strict):
    """How the lab's sandbox must run: ``enforce_iam`` starts every sandbox the lab gets (self-test,
    grading, page runner) with ``--enforce-iam``; learners are told to start theirs so."""

    enforce_iam: bool = False


class Manifest(Strict):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    tracks: list[Literal[TRACKS]] = Field(min_length=1)  # type: ignore[valid-type]
    minutes: int = Field(ge=1)
    level: Literal["intro", "intermediate", "advanced"]
    prerequisites: list[str] = []
    services: list[str] = []
    steps: list[Step] = Field(min_length=1)
    submission: Submission = Submission()
    sandbox: SandboxSettings = SandboxSettings()

    @field_validator("steps")
    @classmethod
    def _unique_steps(cls, steps: list[Step]) -> list[Step]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} appears twice")
            seen.add(step.id)
        return steps

    @property
    def points(self) -> int:
        return sum(step.points for step in self.steps)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def step_ids(self) -> list[str]:
        return [step.id for step in self.steps]


def load_manifest(path: Path) -> Manifest:
    """Read and validate ``path``; the ``id`` must equal the lab's folder name."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CrosstrainError(f"{path}: cannot read the manifest ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise CrosstrainError(
            f"{path}: not valid YAML{where}; fix the indentation or quoting there ({DOCS})"
        ) from None
    if not isinstance(data, dict):
        raise CrosstrainError(f"{path}: the manifest must be a mapping of fields; {DOCS}")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise CrosstrainError(describe(path, exc)) from None
    if manifest.id != path.parent.name:
        raise CrosstrainError(
            f"{path}: field 'id' is {manifest.id!r} but the folder is {path.parent.name!r}; "
            f"fix: set id: {path.parent.name}"
        )
    return manifest


def model_at(loc: list[str]) -> type[BaseModel]:
    """The model whose fields are valid at ``loc`` (e.g. ``["steps", "0"]``: a step's)."""
    model: type[BaseModel] = Manifest
    for part in loc:
        if part.isdigit():
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", None) or (annotation,)
        model = next(a for a in inner if isinstance(a, type) and issubclass(a, BaseModel))
    return model


def describe(path: Path, exc: ValidationError) -> str:
    """One line for the first problem in ``exc``: file, field, what is wrong, the fix."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    field = ".".join(loc) or "(top level)"
    top = loc[0] if loc else ""
    if error["type"] == "extra_forbidden":
        fields = ", ".join(model_at(loc[:-1]).model_fields)
        return f"{path}: unknown field {field!r}; fix: remove it or use one of: {fields}"
    if error["type"] == "missing":
        what = "is missing"
    else:
        what = f"{error['msg'].rstrip('.')} (got {error.get('input')!r})"
    fix = FIXES.get(top, DOCS)
    return f"{path}: field {field!r} {what}; fix: {fix}"
