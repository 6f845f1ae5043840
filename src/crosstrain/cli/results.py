"""Check results for a terminal: readable at 80 columns, repeated findings said once.

Each finding is a header line (result, step / check, points) with its message and hint
indented beneath, so a hint wraps across the whole width instead of a narrow table column.
Consecutive results with the same status, message and hint (one missing resource failing every
later check) are merged into one finding naming every check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLOURS = {"passed": "green", "failed": "red", "error": "yellow", "skipped": "cyan"}


@dataclass
class Finding:
    """One or more results that said the same thing."""

    status: str
    message: str
    hint: str
    where: list[str] = field(default_factory=list)
    points: int = 0
    max_points: int = 0


def merge(results) -> list[Finding]:
    """Consecutive results with the same status, message and hint, as one finding each."""
    findings: list[Finding] = []
    for r in results:
        last = findings[-1] if findings else None
        if last is None or (last.status, last.message, last.hint) != (r.status, r.message, r.hint):
            last = Finding(r.status, r.message, r.hint)
            findings.append(last)
        last.where.append(f"{r.step} / {r.check}")
        last.points += r.points
        last.max_points += r.max_points
    return findings


def show_report(report, console) -> None:
    """Print ``report`` (a :class:`crosstrain.labs.runner.LabReport`) on a rich ``console``."""
    from rich.markup import escape
    from rich.padding import Padding

    console.print(f"[bold]{report.lab.slug}[/]: {report.points}/{report.max_points} points")
    for finding in merge(report.results):
        colour = COLOURS.get(finding.status, "white")
        where = escape(", ".join(finding.where))
        console.print(
            f"[{colour}]{finding.status:<7}[/] {where}  {finding.points}/{finding.max_points}"
        )
        if finding.message:
            console.print(Padding(escape(finding.message), (0, 0, 0, 8)))
        if finding.hint and finding.status != "passed":
            console.print(Padding(f"[dim]hint:[/] {escape(finding.hint)}", (0, 0, 0, 8)))
