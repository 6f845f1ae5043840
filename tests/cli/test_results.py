"""Check results in a terminal: readable at 80 columns, a repeated finding said once."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from crosstrain.cli.results import merge, show_report

HINT = (
    "Train the pipeline on the training frame only, then upload it with joblib to "
    "s3://churn-models/models/churn/v1/model.joblib and its metadata next to it."
)
MISSING = "there is no object models/churn/v1/model.joblib in bucket churn-models"


def result(step, check, status="failed", message=MISSING, hint=HINT, points=0, max_points=1):
    return SimpleNamespace(
        step=step,
        check=check,
        status=status,
        message=message,
        hint=hint,
        points=points,
        max_points=max_points,
    )


def report(*results):
    lab = SimpleNamespace(slug="11-first-model")
    points = sum(r.points for r in results)
    return SimpleNamespace(
        lab=lab, results=list(results), points=points, max_points=sum(r.max_points for r in results)
    )


def render(rep, width=80) -> str:
    out = io.StringIO()
    show_report(rep, Console(file=out, width=width, color_system=None))
    return out.getvalue()


def test_at_80_columns_every_line_fits_and_the_hint_reads_as_prose():
    text = render(report(result("model-artifact", "stored"), result("x", "y", "passed", "ok", "")))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    hint_lines = lines[lines.index(next(x for x in lines if "hint:" in x)) :]
    joined = " ".join(line.strip() for line in hint_lines[:3])
    assert "hint: Train the pipeline on the training frame only, then upload it" in joined
    assert all(len(line.strip()) > 20 for line in hint_lines[:2])  # no 12-character column


def test_a_message_repeated_by_consecutive_checks_is_said_once_naming_them_all():
    rep = report(*[result("evaluation", name, max_points=1) for name in "abcdef"])
    text = render(rep, width=200)
    assert text.count(MISSING) == 1
    assert "evaluation / a, evaluation / b" in text and "0/6" in text
    assert len(merge(rep.results)) == 1


def test_different_findings_stay_apart():
    rep = report(result("s", "a"), result("s", "b", message="other"), result("s", "c"))
    assert [f.where for f in merge(rep.results)] == [["s / a"], ["s / b"], ["s / c"]]


def test_a_passed_finding_shows_no_hint():
    text = render(report(result("s", "a", "passed", "all good", "do something", 1, 1)))
    assert "all good" in text and "hint" not in text
