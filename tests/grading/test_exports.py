"""Outputs: gradebook, results, feedback (hidden cases never shown), JUnit, Gradescope, analysis."""

from __future__ import annotations

import csv
import json
from xml.etree import ElementTree as ET

import pytest

from crosstrain.grading.exports import write_outputs
from crosstrain.grading.results import GradeResult
from crosstrain.labs.catalog import get_lab
from crosstrain.labs.checks import load_checks

HIDDEN_EVENT = "{'plan_price': 123.45, 'months': 17}"


@pytest.fixture(scope="module")
def lab():
    return get_lab("00-sandbox-orientation")


def result(lab, student: str, passing: bool) -> GradeResult:
    checks = []
    for spec in load_checks(lab):
        hidden_fail = not passing and spec.name == "function_answers"
        checks.append(
            {
                "lab": lab.slug,
                "step": spec.step,
                "check": spec.name,
                "status": "passed" if passing else "failed",
                "points": spec.points if passing else 0,
                "max_points": spec.points,
                "message": f"invoking with {HIDDEN_EVENT} failed" if hidden_fail else "saw it",
                "public_message": "passes the public cases but not the hidden ones"
                if hidden_fail
                else "saw it",
                "hint": "" if passing else spec.hint,
                "hint_id": "",
                "seconds": 0.1,
                "hidden": hidden_fail,
            }
        )
    steps = {s.id: (s.points if passing else 0) for s in lab.manifest.steps}
    return GradeResult.from_dict(
        {
            "student": student,
            "lab": lab.slug,
            "status": "graded",
            "message": "all code ran",
            "points": sum(steps.values()),
            "max_points": lab.manifest.points,
            "steps": steps,
            "checks": checks,
            "runs": [{"file": "orientation.ipynb", "status": "ok", "message": "ran to the end"}],
            "notes": [],
            "fingerprint": "x",
            "graded_at": "2026-11-27T00:00:00+00:00",
            "seconds": 3.0,
        }
    )


@pytest.fixture(scope="module")
def out(tmp_path_factory, lab):
    folder = tmp_path_factory.mktemp("exports")
    results = [result(lab, "alice", True), result(lab, "bob", False)]
    write_outputs(folder, lab, load_checks(lab), results)
    return folder


def test_gradebook_has_points_per_step_total_max_status(out):
    with open(out / "gradebook.csv") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["alice"]["store-dataset (4)"] == "4"
    assert (rows["alice"]["total"], rows["alice"]["max"], rows["bob"]["total"]) == ("10", "10", "0")
    assert rows["bob"]["status"] == "graded"


def test_results_json_keeps_the_full_message_for_instructors(out):
    assert HIDDEN_EVENT in (out / "results.json").read_text()


@pytest.mark.parametrize(
    "rel", ["feedback/bob.md", "feedback/bob.html", "junit.xml", "gradescope/bob/results.json"]
)
def test_learner_facing_files_never_show_hidden_cases(out, rel):
    text = (out / rel).read_text()
    assert "123.45" not in text
    assert "not the hidden ones" in text


def test_feedback_shows_hints_of_failed_checks(out, lab):
    assert load_checks(lab)[0].hint in (out / "feedback/bob.md").read_text()


def test_junit_counts_failures(out):
    suites = ET.parse(out / "junit.xml").getroot()
    bob = next(s for s in suites if s.get("name") == "bob")
    assert int(bob.get("failures")) == len(list(bob))


def test_gradescope_score_is_the_total(out):
    data = json.loads((out / "gradescope/alice/results.json").read_text())
    assert data["score"] == 10 and sum(t["max_score"] for t in data["tests"]) == 10


def test_item_analysis_lists_pass_rates_and_charts(out):
    text = (out / "item-analysis.md").read_text()
    assert "| store-dataset | dataset_uploaded | 1/2 | 1 | 0 | 50% |" in text
    for chart in ("charts/pass-rate.png", "charts/totals.png"):
        assert (out / chart).read_bytes()[:4] == b"\x89PNG"


def test_gradebook_cells_cannot_become_formulas(tmp_path, lab):
    from crosstrain.grading.exports import gradebook_csv

    evil = result(lab, "=HYPERLINK(1)", False)
    evil.message = "=cmd|' /C calc'!A0"
    text = gradebook_csv(lab, [evil])
    assert "\n'=HYPERLINK(1)," in text and ",'=cmd" in text


def skipping(lab, student: str, step: str) -> GradeResult:
    """A passing result whose ``step`` the learner skipped (as grading marks it)."""
    r = result(lab, student, True)
    for c in r.checks:
        if c.step == step:
            c.status = "skipped"
            c.public_message = "skipped: the learner ran the reference solution"
    return r


@pytest.fixture(scope="module")
def skipped_out(tmp_path_factory, lab):
    folder = tmp_path_factory.mktemp("exports-skipped")
    results = [result(lab, "alice", True), skipping(lab, "carol", "store-dataset")]
    write_outputs(folder, lab, load_checks(lab), results)
    return folder


def test_gradebook_lists_the_skipped_steps_and_only_those(skipped_out):
    with open(skipped_out / "gradebook.csv") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["carol"]["skipped"] == "store-dataset"
    assert rows["alice"]["skipped"] == ""


def test_feedback_marks_a_skipped_step_skipped_not_passed_or_failed(skipped_out):
    carol = (skipped_out / "feedback/carol.md").read_text()
    section = carol.split("## ")[1]  # the first step: store-dataset
    assert "(skipped)" in section.splitlines()[0] and "⏭ skipped" in section
    assert "✅" not in section and "❌" not in section
    assert "skipped" not in "".join(carol.split("## ")[2:])  # the steps done stay passed
    assert "skipped" not in (skipped_out / "feedback/alice.md").read_text()
    assert "<b>skipped</b>" in (skipped_out / "feedback/carol.html").read_text()


def test_junit_reports_skipped_checks_as_skipped(skipped_out):
    suites = ET.parse(skipped_out / "junit.xml").getroot()
    carol = next(s for s in suites if s.get("name") == "carol")
    alice = next(s for s in suites if s.get("name") == "alice")
    assert carol.get("failures") == "0" and int(carol.get("skipped")) >= 1
    assert alice.get("skipped") == "0"
    skipped = [c for c in carol if c.find("skipped") is not None]
    assert skipped and all(c.get("classname") == "carol.store-dataset" for c in skipped)


def test_gradescope_names_skipped_checks(skipped_out):
    tests = json.loads((skipped_out / "gradescope/carol/results.json").read_text())["tests"]
    named = [t for t in tests if t["name"].endswith("(skipped)")]
    assert named and all(t["name"].startswith("store-dataset:") for t in named)
    assert all("status" not in t for t in named)  # Gradescope knows only passed/failed


def test_item_analysis_does_not_count_a_skip_as_an_attempt(skipped_out):
    from crosstrain.grading.reports import analyse

    lab = get_lab("00-sandbox-orientation")
    data = analyse(load_checks(lab), [skipping(lab, "carol", "store-dataset")])
    rates = {r["check"]: r for r in data["rates"]}
    assert all(r["attempts"] == (0 if r["step"] == "store-dataset" else 1) for r in rates.values())


def rejected(lab, student: str) -> GradeResult:
    return GradeResult.from_dict(
        {
            "student": student,
            "lab": lab.slug,
            "status": "rejected",
            "message": "submission rejected: no notebook found (expected orientation.ipynb)",
            "max_points": lab.manifest.points,
            "steps": {s.id: 0 for s in lab.manifest.steps},
            "fingerprint": "x",
            "graded_at": "2026-11-27T00:00:00+00:00",
        }
    )


def test_rejected_feedback_has_no_empty_step_headings(lab):
    from crosstrain.grading.exports import feedback_html, feedback_markdown

    r = rejected(lab, "carol")
    md, page = feedback_markdown(lab, r), feedback_html(lab, r)
    assert "no notebook found" in md and "## " not in md
    assert "no notebook found" in page and "<h2>" not in page


def test_item_analysis_separates_not_attempted_from_wrong(lab):
    from crosstrain.grading.reports import analyse

    untouched = result(lab, "dan", False)
    untouched.attempted = dict.fromkeys(lab.manifest.step_ids, False)
    tried = result(lab, "eve", False)
    tried.attempted = dict.fromkeys(lab.manifest.step_ids, True)
    data = analyse(load_checks(lab), [untouched, tried, result(lab, "fay", True)])
    row = next(r for r in data["rates"] if r["check"] == "function_answers")
    assert (row["passed"], row["wrong"], row["not_attempted"], row["rate"]) == (1, 1, 1, 0.5)
    assert all(h["count"] == 1 for h in data["hints"])  # dan's untouched steps give no hints
