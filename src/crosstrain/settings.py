"""crosstrain's configuration: one typed object, every default defined here once.

Each field can be set with an environment variable ``CROSSTRAIN_<FIELD>`` (e.g.
``CROSSTRAIN_SANDBOX_PORT=4567``). Nothing is read at import time: :func:`settings` reads the
environment when called, so a changed variable is seen by the next call. An invalid value is one
:class:`~crosstrain.errors.CrosstrainError` naming the variable.

``docs/reference/settings.md`` is generated from :class:`Settings` (:func:`reference`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crosstrain.errors import CrosstrainError

__all__ = ["ENV_PREFIX", "Settings", "reference", "settings"]

ENV_PREFIX = "CROSSTRAIN_"


class Settings(BaseSettings):
    """Where crosstrain keeps things, which ports it serves on, and its limits."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # -- places --------------------------------------------------------------------------------
    home: Path = Field(
        Path("~/.crosstrain"),
        description="crosstrain's per-user folder: sandbox state, run records, the built site.",
    )
    workspace: Path = Field(
        Path("workspace"),
        description="Where learners' lab folders go (relative to the current folder).",
    )
    content_dir: Path | None = Field(
        None,
        description="The folder holding labs/, solutions/ and graders/ (default: this checkout).",
    )
    site_dir: Path | None = Field(
        None, description="Where the built site is cached (default: HOME/site)."
    )

    # -- ports ---------------------------------------------------------------------------------
    sandbox_port: int = Field(
        4566, ge=1, le=65535, description="The sandbox's port (LocalStack's, so tools just work)."
    )
    site_port: int = Field(8000, ge=1, le=65535, description="The site and its JSON API's port.")
    host: str = Field(
        "127.0.0.1",
        description="The address the sandbox and site bind; anything but loopback opens them up.",
    )

    account: str = Field(
        "000000000000",
        pattern=r"^\d{12}$",
        description="The sandbox's default AWS account id (LocalStack's; moto's is 123456789012).",
    )

    # -- sandbox limits ------------------------------------------------------------------------
    lambda_concurrency: int = Field(
        4, ge=1, description="Warm Lambda workers kept per function at most."
    )
    lambda_idle_seconds: float = Field(
        900, gt=0, description="Seconds an idle Lambda worker is kept warm before it stops."
    )
    sagemaker_max_workers: int = Field(
        2, ge=1, description="Model-serving worker processes per SageMaker endpoint at most."
    )
    worker_zygotes: bool = Field(
        True,
        description="Fork Lambda and endpoint workers from pre-started parents that have the "
        "heavy imports done (off: every worker starts as a fresh Python).",
    )
    http_keep_alive: bool = Field(
        False,
        description="Keep the sandbox's HTTP connections open between requests (HTTP/1.1 "
        "keep-alive) instead of closing each one after its answer.",
    )
    idle_workers_max: int = Field(
        8,
        ge=0,
        description="Idle warm workers kept in the whole sandbox at most (least recently used "
        "stop first; a cold start from a zygote takes milliseconds).",
    )

    # -- progress ------------------------------------------------------------------------------
    skipped_steps_score: bool = Field(
        True,
        description="Whether a skipped step (its reference solution ran) earns its points; it is "
        "marked skipped either way. An instructor can set false so only work done scores.",
    )

    # -- grading -------------------------------------------------------------------------------
    grading_secret: SecretStr | None = Field(
        None, description="The course secret hidden grading cases are derived from."
    )
    grade_memory_mb: int = Field(
        1024, ge=64, description="Memory limit (MB) per submission when grading."
    )

    @field_validator("home", "workspace", "content_dir", "site_dir")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    # -- derived places ------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        """Where a learner's sandbox keeps its state between runs."""
        return self.home / "sandbox"

    @property
    def run_dir(self) -> Path:
        """Run records (which sandbox runs on which port) and logs."""
        return self.home / "run"

    @property
    def built_site_dir(self) -> Path:
        """The site cache: ``site_dir``, else ``home/site``."""
        return self.site_dir or self.home / "site"


def settings(**overrides) -> Settings:
    """The settings now: ``overrides``, then ``CROSSTRAIN_*`` variables, then the defaults."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        name = ENV_PREFIX + str(first["loc"][0]).upper()
        raise CrosstrainError(f"{name} is invalid: {first['msg']}; fix or unset it") from None


def default(name: str):
    """The built-in default of setting ``name`` (for help texts: no environment is read)."""
    return Settings.model_fields[name].default


def reference() -> str:
    """The settings reference page (Markdown), generated from :class:`Settings`."""
    lines = [
        "# Settings",
        "",
        "Every setting crosstrain reads, generated from `crosstrain.settings.Settings`. Set one "
        "with an environment variable, e.g. `export CROSSTRAIN_SANDBOX_PORT=4567`; a command-line "
        "flag, where there is one, wins over the variable.",
        "",
        "| variable | default | what it sets |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        value = "—" if field.default is None else f"`{field.default}`"
        lines.append(f"| `{ENV_PREFIX}{name.upper()}` | {value} | {field.description} |")
    return "\n".join(lines) + "\n"
