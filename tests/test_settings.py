"""The typed settings: defaults defined once, read lazily from CROSSTRAIN_*, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.settings import ENV_PREFIX, Settings, default, reference, settings

SRC = Path(__file__).resolve().parents[1] / "src" / "crosstrain"
# Variables that are not settings: a protocol between crosstrain's own processes.
INTERNAL = {
    "CROSSTRAIN_WORKER_PARENT",
    "CROSSTRAIN_ZYGOTE",
    "CROSSTRAIN_NBGRADER_HIDDEN",
    "CROSSTRAIN_SANDBOX_TOKEN",
}
# Modules still reading settings by hand, each being converted by the engineer who owns its room
# (issue #19). Remove a line when its module calls crosstrain.settings.settings() instead.
PENDING: set[str] = set()
READER = re.compile(r"""(?:environ\.get|environ\.pop|getenv|environ\[)\(?\s*["'](CROSSTRAIN_\w+)""")


def test_defaults_are_the_documented_ones(monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(ENV_PREFIX + name.upper(), raising=False)
    now = settings()
    assert (now.sandbox_port, now.site_port, now.host) == (4566, 8000, "127.0.0.1")
    assert now.home == Path("~/.crosstrain").expanduser()
    assert now.state_dir == now.home / "sandbox"
    assert now.built_site_dir == now.home / "site"


def test_the_environment_is_read_when_asked_not_at_import(monkeypatch, tmp_path):
    monkeypatch.setenv("CROSSTRAIN_SANDBOX_PORT", "4567")
    monkeypatch.setenv("CROSSTRAIN_HOME", str(tmp_path))
    assert settings().sandbox_port == 4567
    assert settings().built_site_dir == tmp_path / "site"
    monkeypatch.setenv("CROSSTRAIN_SANDBOX_PORT", "4568")
    assert settings().sandbox_port == 4568
    assert default("sandbox_port") == 4566  # the built-in default ignores the environment


def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv("CROSSTRAIN_SANDBOX_PORT", "eighty")
    with pytest.raises(CrosstrainError, match=r"^CROSSTRAIN_SANDBOX_PORT is invalid: .*unset it$"):
        settings()


def test_the_secret_is_not_shown(monkeypatch):
    monkeypatch.setenv("CROSSTRAIN_GRADING_SECRET", "hunter2")
    now = settings()
    assert "hunter2" not in repr(now)
    assert now.grading_secret.get_secret_value() == "hunter2"


def test_the_reference_page_lists_every_setting_with_its_default():
    page = reference()
    for name, field in Settings.model_fields.items():
        assert f"`CROSSTRAIN_{name.upper()}`" in page
        assert field.description and field.description in page
    assert "| `CROSSTRAIN_SANDBOX_PORT` | `4566` |" in page


def test_no_module_reads_a_setting_by_hand_outside_the_pending_list():
    readers = {}
    for path in SRC.rglob("*.py"):
        names = set(READER.findall(path.read_text())) - INTERNAL
        if names:
            readers[str(path.relative_to(SRC))] = names
    assert set(readers) <= PENDING, {k: v for k, v in readers.items() if k not in PENDING}
    unknown = set().union(*readers.values()) - {
        ENV_PREFIX + n.upper() for n in Settings.model_fields
    }
    assert unknown == set()


def test_the_reader_scan_catches_a_hand_read():
    assert READER.findall('x = os.environ.get("CROSSTRAIN_HOME", "~")') == ["CROSSTRAIN_HOME"]
