"""Write a batch's outputs from the grade store.

Instructor files: ``gradebook.csv`` (Canvas/Moodle import), ``results.json`` (every check, full
message). Learner-facing files use each check's ``public_message``, which never shows hidden
cases: ``feedback/<student>.md`` and ``.html``, ``junit.xml`` and
``gradescope/<student>/results.json``. The item analysis is in :mod:`crosstrain.grading.reports`.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from crosstrain.grading.outfiles import atomic_write, safe_name
from crosstrain.grading.reports import write_item_analysis

if TYPE_CHECKING:
    from crosstrain.grading.results import GradeResult

STATUS_WORDS = {
    "graded": "graded",
    "code-failed": "graded; some of your code did not run to the end",
    "rejected": "not graded: the submission was rejected",
    "tampered": "not graded: the submission changed the grader's files",
    "error": "not graded yet: the grader failed (your instructor will regrade)",
}


def skipped_steps(r: GradeResult) -> list[str]:
    """The steps of ``r`` the learner skipped (``crosstrain lab skip``), in check order."""
    return list(dict.fromkeys(c.step for c in r.checks if c.status == "skipped"))


def mark(status: str) -> str:
    return {"passed": "✅ passed", "skipped": "⏭ skipped"}.get(status, f"❌ {status}")


def gradebook_csv(lab, results: list[GradeResult]) -> str:
    """One row per student: points per step, total, max, status, message and the steps the
    learner skipped (their points follow the ``skipped_steps_score`` setting)."""
    import io

    steps = lab.manifest.step_ids
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["student", *(f"{s} ({lab.manifest.step(s).points})" for s in steps)]
    writer.writerow([*header, "total", "max", "status", "message", "skipped"])
    for r in results:
        row = [cell(r.student), *(r.steps.get(s, 0) for s in steps)]
        row += [r.points, r.max_points, r.status, cell(r.message)]
        writer.writerow([*row, " ".join(skipped_steps(r))])
    return buffer.getvalue()


def cell(text: str) -> str:
    """Text that a spreadsheet will not run as a formula (learner text reaches the gradebook)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def feedback_markdown(lab, r: GradeResult) -> str:
    """What passed, what failed and what to do next, for one learner."""
    lines = [
        f"# {lab.manifest.title}: feedback for {r.student}",
        "",
        f"**Score: {r.points} / {r.max_points}** ({STATUS_WORDS.get(r.status, '')})",
        "",
    ]
    if r.status != "graded":
        lines += [f"> {r.message}", ""]
    for run in r.runs:
        lines.append(f"- `{run.file}`: {run.message}")
    if r.runs:
        lines.append("")
    for step in lab.manifest.steps if r.checks else []:  # nothing was checked: no empty steps
        got = r.steps.get(step.id, 0)
        word = " (skipped)" if step.id in skipped_steps(r) else ""
        lines += [f"## {step.title} — {got} / {step.points}{word}", ""]
        for c in (c for c in r.checks if c.step == step.id):
            lines.append(f"- {mark(c.status)} ({c.points}/{c.max_points}): {c.public_message}")
            if c.status not in ("passed", "skipped") and c.hint:
                lines.append(f"  - **Hint:** {c.hint}")
        lines.append("")
    for note in r.notes:
        lines.append(f"- note: {note}")
    return "\n".join(lines).rstrip() + "\n"


def feedback_html(lab, r: GradeResult) -> str:
    """The same feedback as a small, self-contained HTML page (no scripts, no CDN)."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{e(lab.manifest.title)}: {e(r.student)}</title>",
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto}"
        ".passed{color:#1a7f37}.failed,.error{color:#cf222e}.hint,.skipped{color:#555}</style>",
        "</head><body>",
        f"<h1>{e(lab.manifest.title)}</h1><p>Feedback for <b>{e(r.student)}</b></p>",
        f"<p><b>Score: {r.points} / {r.max_points}</b> ({e(STATUS_WORDS.get(r.status, ''))})</p>",
    ]
    if r.status != "graded":
        parts.append(f"<blockquote>{e(r.message)}</blockquote>")
    if r.runs:
        parts.append("<ul>")
        for run in r.runs:
            parts.append(f"<li><code>{e(run.file)}</code>: {e(run.message)}</li>")
        parts.append("</ul>")
    for step in lab.manifest.steps if r.checks else []:  # nothing was checked: no empty steps
        word = " (skipped)" if step.id in skipped_steps(r) else ""
        got = r.steps.get(step.id, 0)
        parts.append(f"<h2>{e(step.title)} — {got} / {step.points}{word}</h2>")
        parts.append("<ul>")
        for c in (c for c in r.checks if c.step == step.id):
            word = "passed" if c.status == "passed" else c.status
            item = (
                f"<li class='{e(c.status)}'><b>{e(word)}</b> "
                f"({c.points}/{c.max_points}): {e(c.public_message)}"
            )
            if c.status not in ("passed", "skipped") and c.hint:
                item += f"<br><span class='hint'>Hint: {e(c.hint)}</span>"
            parts.append(item + "</li>")
        parts.append("</ul>")
    parts += [f"<p class='hint'>note: {e(n)}</p>" for n in r.notes]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def junit_xml(lab, results: list[GradeResult]) -> str:
    """One test suite per student, one test case per check (public messages only)."""
    suites = ET.Element("testsuites", name=lab.slug)
    for r in results:
        checks = r.checks
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=r.student,
            tests=str(max(1, len(checks))),
            failures=str(sum(c.status == "failed" for c in checks)),
            skipped=str(sum(c.status == "skipped" for c in checks)),
            errors=str(sum(c.status == "error" for c in checks) + (not checks)),
        )
        if not checks:
            case = ET.SubElement(suite, "testcase", classname=r.student, name="submission")
            ET.SubElement(case, "error", message=r.message).text = r.message
        for c in checks:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{r.student}.{c.step}",
                name=c.check,
                time=str(c.seconds),
            )
            if c.status == "skipped":
                ET.SubElement(case, "skipped", message=c.public_message)
            elif c.status != "passed":
                tag = "failure" if c.status == "failed" else "error"
                node = ET.SubElement(case, tag, message=c.public_message)
                node.text = f"{c.points}/{c.max_points} points. hint: {c.hint}"
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def gradescope_status(status: str) -> str:
    return "passed" if status == "passed" else "failed"


def gradescope_json(lab, r: GradeResult) -> str:
    """Gradescope's autograder ``results.json`` shape for one student."""
    tests = [
        {
            "name": f"{c.step}: {c.check}" + (" (skipped)" if c.status == "skipped" else ""),
            "score": c.points,
            "max_score": c.max_points,
            # Gradescope knows only passed/failed; a skipped check's shows from its score.
            **({} if c.status == "skipped" else {"status": gradescope_status(c.status)}),
            "output": c.public_message
            + (f"\nHint: {c.hint}" if c.status not in ("passed", "skipped") and c.hint else ""),
            "visibility": "visible",
        }
        for c in r.checks
    ]
    data = {
        "score": r.points,
        "execution_time": r.seconds,
        "output": r.message,
        "visibility": "visible",
        "tests": tests,
    }
    if not tests:
        data["tests"] = [
            {"name": "submission", "score": 0, "max_score": r.max_points, "output": r.message}
        ]
    return json.dumps(data, indent=2) + "\n"


def write_outputs(
    out: Path, lab, specs, results: list[GradeResult], roster: dict | None = None
) -> list[str]:
    """Write every output file for ``results`` (LMS formats under ``lms/``, see
    :mod:`crosstrain.grading.lms`); return their paths relative to ``out``."""
    from crosstrain.grading.lms import write_lms

    written = {
        "gradebook.csv": gradebook_csv(lab, results),
        "results.json": json.dumps(
            {"lab": lab.slug, "results": [r.as_dict() for r in results]}, indent=2
        )
        + "\n",
        "junit.xml": junit_xml(lab, results),
    }
    for r in results:
        name = safe_name(r.student)
        written[f"feedback/{name}.md"] = feedback_markdown(lab, r)
        written[f"feedback/{name}.html"] = feedback_html(lab, r)
        written[f"gradescope/{name}/results.json"] = gradescope_json(lab, r)
    for rel, text in written.items():
        atomic_write(out / rel, text)
    lms = write_lms(out, lab, results, roster)
    return [*written, *lms, *write_item_analysis(out, lab, specs, results)]
