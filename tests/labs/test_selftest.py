"""The self-test contract, in fresh sandboxes: every lab passes it; a broken check fails it."""

import json
import shutil

import pytest
from click.testing import CliRunner

from crosstrain.cli import main
from crosstrain.labs.catalog import get_lab, list_labs
from crosstrain.labs.selftest import self_test

DEMO = "00-sandbox-orientation"


@pytest.mark.slow
@pytest.mark.parametrize("slug", [lab.slug for lab in list_labs()])
def test_every_lab_passes_its_self_test(slug):
    report = self_test(get_lab(slug))
    failed = [f"{f.name}: {f.detail}" for f in report.findings if not f.ok]
    assert failed == []
    assert report.ok
    if slug == DEMO:
        assert report.unreached_hints == []


@pytest.mark.slow
def test_author_test_fails_when_a_check_is_broken(content):
    """A check that passes on an empty sandbox is caught by `crosstrain author test`."""
    shutil.rmtree(content / "graders" / DEMO / "misconceptions")  # not needed here; saves time
    checks = content / "graders" / DEMO / "checks.py"
    broken = checks.read_text().replace(
        '    if BUCKET not in names:\n        raise Fail(f"there is no bucket',
        '    if False:\n        raise Fail(f"there is no bucket',
        1,
    )
    broken = broken.replace(
        '    keys = [o["Key"]', "    return 'looks fine'\n    keys = [o[\"Key\"]", 1
    )
    assert broken != checks.read_text()
    checks.write_text(broken)
    result = CliRunner().invoke(main, ["author", "test", DEMO, "--json"])
    assert result.exit_code == 1, result.output
    (report,) = json.loads(result.output)
    bad = {f["name"] for f in report["findings"] if not f["ok"]}
    assert "store-dataset: fails before its solve" in bad
    assert "starter scores zero" in bad


def test_a_misspelt_hint_key_stops_the_load_and_is_in_the_unreached_report(content):
    """Grading treats an undeclared hint as final for the student; the graders refuse to load."""
    checks = content / "graders" / DEMO / "checks.py"
    text = checks.read_text()
    broken = text.replace(
        'raise Fail(f"there is no bucket',
        "raise Fail(hint='typo', message=f\"there is no bucket",
        1,
    )
    assert broken != text
    checks.write_text(broken)
    report = self_test(get_lab(DEMO))
    bad = {f.name: f.detail for f in report.findings if not f.ok}
    assert "raises hint 'typo', which it does not declare" in bad["content loads"]
    (entry,) = report.unreached_hints
    assert entry.startswith("dataset_uploaded:typo (not declared, line ")


def test_a_stale_starter_and_a_missing_widget_are_findings(content):
    from crosstrain.labs.selftest import static_findings

    page = content / "docs" / "labs" / f"{DEMO}.md"
    page.write_text(
        page.read_text().replace("<!-- check: dynamodb-item -->", "<!-- check: nope -->")
    )
    handler = content / "solutions" / DEMO / "function" / "handler.py"
    handler.write_text("# changed\n" + handler.read_text())
    findings = {f.name: f for f in static_findings(get_lab(DEMO))}
    assert not findings["starter matches the solution"].ok
    widget = findings["docs page has a check widget per step"]
    assert "unknown steps: nope" in widget.detail
    assert "no widget for: dynamodb-item" in widget.detail


def test_a_marker_that_would_not_render_is_a_finding(content):
    """The self-test reads markers with the build's grammar: text beside a marker hides it."""
    from crosstrain.labs.selftest import static_findings

    page = content / "docs" / "labs" / f"{DEMO}.md"
    text = page.read_text()
    marker = "\n<!-- check: dynamodb-item -->\n"
    assert marker in text
    page.write_text(text.replace(marker, "\nCheck: " + marker.lstrip("\n")))
    widget = {f.name: f for f in static_findings(get_lab(DEMO))}[
        "docs page has a check widget per step"
    ]
    assert not widget.ok
    assert "no widget for: dynamodb-item" in widget.detail
    assert "must be alone on its line" in widget.detail


@pytest.mark.slow
def test_a_check_that_crashes_without_hidden_data_fails_the_self_test(content):
    """The learner's path (no course secret, as `lab check` runs) is exercised in every phase."""
    shutil.rmtree(content / "graders" / DEMO / "misconceptions")
    checks = content / "graders" / DEMO / "checks.py"
    text = checks.read_text()
    broken = text.replace(
        '    if ctx.hidden:\n        rng = ctx.hidden.rng("revenue")',
        '    rng = ctx.hidden.rng("revenue")\n    if ctx.hidden:',
        1,
    )
    assert broken != text
    checks.write_text(broken)
    report = self_test(get_lab(DEMO))
    bad = {f.name: f.detail for f in report.findings if not f.ok}
    detail = bad["deploy-function: passes after the solves up to it"]
    assert "[learner path, no hidden data" in detail
    assert "AttributeError" in detail
    assert "[grading path" not in detail


def test_a_misconception_failing_with_another_hint_says_which_hint_it_got(content):
    from crosstrain.labs.selftest import SelfTestReport, _Run, load_misconceptions
    from crosstrain.labs.solves import load_solves

    case_file = content / "graders" / DEMO / "misconceptions" / "public_bucket.py"
    case_file.write_text(case_file.read_text().replace('HINT = "public"', 'HINT = "versioning"'))
    lab = get_lab(DEMO)
    (case,) = [c for c in load_misconceptions(lab) if c.path.stem == "public_bucket"]
    run = _Run(lab, SelfTestReport(DEMO), None)
    run.misconception(case, load_solves(lab))
    (finding,) = run.out.findings
    assert not finding.ok
    assert "expected hint 'versioning', got " in finding.detail
    assert "'public' (bucket_protected)" in finding.detail
