"""A Gradescope autograder bundle for one lab: ``crosstrain course export-gradescope LAB``.

The zip holds what Gradescope runs (``setup.sh`` once when the image is built,
``run_autograder`` per submission) and the course content grading needs — the lab's starter
kit and manifest (``course/labs/LAB``) and its checks (``course/graders/LAB``), never the
solutions. ``run_autograder`` grades ``/autograder/submission`` with ``crosstrain grade --ci``
and copies the Gradescope ``results.json`` crosstrain writes to ``/autograder/results/``.
Learner code runs jailed as usual, so it cannot read ``/autograder/source`` (nor the secret kept
there).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from crosstrain.errors import CrosstrainError

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
cd /autograder/source
apt-get update -qq && apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
python3 -m venv /autograder/venv
if ls wheels/*.whl >/dev/null 2>&1; then
  /autograder/venv/bin/pip install -q wheels/*.whl
else
  /autograder/venv/bin/pip install -q "crosstrain=={version}"
fi
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: the submission is in $ROOT/submission, the result
# goes to $ROOT/results/results.json. AUTOGRADER_ROOT and CROSSTRAIN let you try it locally.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
CROSSTRAIN="${{CROSSTRAIN:-$ROOT/venv/bin/crosstrain}}"
export CROSSTRAIN_CONTENT_DIR="$HERE/course"
if [ -f "$HERE/course/.grading-secret" ]; then
  CROSSTRAIN_GRADING_SECRET="$(cat "$HERE/course/.grading-secret")"
  export CROSSTRAIN_GRADING_SECRET
fi
mkdir -p "$ROOT/results"
OUT="$ROOT/results/crosstrain"
$CROSSTRAIN grade --ci "$ROOT/submission" --lab {lab} --out "$OUT" --threshold 0 \\
  >"$ROOT/results/crosstrain.log" 2>&1
if [ -f "$OUT/gradescope.json" ]; then
  cp "$OUT/gradescope.json" "$ROOT/results/results.json"
else
  python3 - "$ROOT/results" <<'PY'
import json, pathlib, sys
results = pathlib.Path(sys.argv[1])
log = (results / "crosstrain.log").read_text(errors="replace")[-2000:]
message = "the autograder could not grade this submission: " + log.strip()
data = {{"score": 0, "output": message, "visibility": "visible", "tests": []}}
(results / "results.json").write_text(json.dumps(data))
PY
fi
"""


@dataclass
class Bundle:
    path: Path
    lab: str
    files: list[str]

    def as_dict(self) -> dict:
        return {"path": str(self.path), "lab": self.lab, "files": self.files}


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str, names: list[str]) -> None:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not {"__pycache__", ".ipynb_checkpoints"} & set(rel.parts):
            name = f"{prefix}/{rel.as_posix()}"
            archive.write(path, name)
            names.append(name)


def _add_text(archive: zipfile.ZipFile, name: str, text: str, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def export_gradescope(
    lab: str,
    out: str | Path | None = None,
    *,
    secret: str | None = None,
    wheel: str | Path | None = None,
    force: bool = False,
) -> Bundle:
    """Write the autograder zip for ``lab`` (default ``gradescope-<slug>.zip``)."""
    from importlib.metadata import PackageNotFoundError, version

    from crosstrain.labs.catalog import get_lab

    the_lab = get_lab(lab)
    path = Path(out or f"gradescope-{the_lab.slug}.zip")
    if path.exists() and not force:
        raise CrosstrainError(f"{path} exists; pass --force to overwrite it or choose another path")
    if wheel is not None and not Path(wheel).is_file():
        raise CrosstrainError(f"no wheel at {wheel}; build one with `pip wheel --no-deps .`")
    try:
        crosstrain_version = version("crosstrain")
    except PackageNotFoundError:
        crosstrain_version = "0.1.0"
    names = ["setup.sh", "run_autograder"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_text(archive, "setup.sh", SETUP.format(version=crosstrain_version), 0o755)
        _add_text(archive, "run_autograder", RUN.format(lab=the_lab.slug), 0o755)
        _add_tree(archive, the_lab.lab_dir, f"course/labs/{the_lab.slug}", names)
        _add_tree(archive, the_lab.grader_dir, f"course/graders/{the_lab.slug}", names)
        if secret:
            _add_text(archive, "course/.grading-secret", secret, 0o600)
            names.append("course/.grading-secret")
        if wheel is not None:
            archive.write(wheel, f"wheels/{Path(wheel).name}")
            names.append(f"wheels/{Path(wheel).name}")
    return Bundle(path, the_lab.slug, names)
