"""Item analysis of a class: pass rate per check, most frequent hints, distribution of totals.

A check failed on a step the learner left as the starter gave it is *not attempted*, not
*wrong*: pass rates and hints count attempted work only, so real misconceptions rise to the top.

Written as ``item-analysis.md`` with two PNG charts (matplotlib, Agg backend):
``charts/pass-rate.png`` and ``charts/totals.png``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.grading.outfiles import atomic_write

if TYPE_CHECKING:
    from crosstrain.grading.results import GradeResult


def attempted(r: GradeResult, step: str) -> bool:
    """Whether the learner worked on ``step`` (rows graded before intake recorded it: yes)."""
    return r.attempted.get(step, True)


def analyse(specs, results: list[GradeResult]) -> dict:
    """Numbers for the report: per check, passed / attempted-and-wrong / not attempted (the
    pass rate is over those who attempted it), hints of attempted work, and the totals."""
    graded = [r for r in results if r.checks]
    rates = []
    for spec in specs:
        seen = [(r, c) for r in graded for c in r.checks if c.check == spec.name]
        passed = sum(c.status == "passed" for _, c in seen)
        skipped = sum(  # a skipped step, or a step left as the starter had it
            c.status == "skipped" or (c.status != "passed" and not attempted(r, c.step))
            for r, c in seen
        )
        tried = len(seen) - skipped
        rates.append(
            {
                "step": spec.step,
                "check": spec.name,
                "passed": passed,
                "wrong": tried - passed,
                "not_attempted": skipped,
                "attempts": tried,
                "rate": passed / tried if tried else 0.0,
            }
        )
    hints = Counter(
        (c.check, c.hint)
        for r in graded
        for c in r.checks
        if c.status not in ("passed", "skipped") and c.hint and attempted(r, c.step)
    )
    return {
        "students": len(results),
        "checked": len(graded),
        "rates": rates,
        "hints": [{"check": k[0], "hint": k[1], "count": n} for k, n in hints.most_common(10)],
        "totals": [r.points for r in results],
        "statuses": Counter(str(r.status) for r in results),
    }


def markdown(lab, data: dict) -> str:
    max_points = lab.manifest.points
    totals = data["totals"]
    mean = sum(totals) / len(totals) if totals else 0.0
    lines = [
        f"# Item analysis: {lab.manifest.title}",
        "",
        f"{data['students']} submissions, {data['checked']} checked; "
        f"mean total {mean:.2f} / {max_points}.",
        "",
        "Statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(data["statuses"].items())),
        "",
        "## Pass rate per check (hardest first)",
        "",
        "Over the learners who attempted the step (changed its cell from the starter's); "
        "*not attempted* counts those who left it as given.",
        "",
        "| step | check | passed | wrong | not attempted | pass rate |",
        "|---|---|---|---|---|---|",
    ]
    for row in sorted(data["rates"], key=lambda row: (row["rate"], -row["wrong"])):
        lines.append(
            f"| {row['step']} | {row['check']} | {row['passed']}/{row['attempts']} "
            f"| {row['wrong']} | {row['not_attempted']} | {row['rate']:.0%} |"
        )
    lines += ["", "![pass rate per check](charts/pass-rate.png)", ""]
    lines += [
        "## Most frequent hints (attempted work only: the real misconceptions)",
        "",
        "| times | check | hint |",
        "|---|---|---|",
    ]
    for h in data["hints"]:
        lines.append(f"| {h['count']} | {h['check']} | {h['hint'].replace('|', '/')} |")
    counts = Counter(totals)
    lines += ["", "## Distribution of totals", "", "| total | students |", "|---|---|"]
    lines += [f"| {t} | {counts[t]} |" for t in sorted(counts)]
    lines += ["", "![distribution of totals](charts/totals.png)", ""]
    return "\n".join(lines)


def charts(out: Path, lab, data: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    (out / "charts").mkdir(parents=True, exist_ok=True)
    rates = data["rates"]
    fig = Figure(figsize=(8, 0.5 * len(rates) + 1.5))
    ax = fig.subplots()
    labels = [f"{row['step']}: {row['check']}" for row in rates]
    ax.barh(labels[::-1], [row["rate"] * 100 for row in rates][::-1], color="#2f81f7")
    ax.set_xlim(0, 100)
    ax.set_xlabel("learners passing (%)")
    ax.set_title(f"{lab.slug}: pass rate per check")
    fig.tight_layout()
    fig.savefig(out / "charts" / "pass-rate.png", dpi=100)

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    max_points = lab.manifest.points
    counts = Counter(data["totals"])
    ax.bar(range(max_points + 1), [counts[t] for t in range(max_points + 1)], color="#1a7f37")
    ax.set_xlabel(f"total points (of {max_points})")
    ax.set_ylabel("students")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{lab.slug}: distribution of totals")
    fig.tight_layout()
    fig.savefig(out / "charts" / "totals.png", dpi=100)
    return ["charts/pass-rate.png", "charts/totals.png"]


def write_item_analysis(out: Path, lab, specs, results: list[GradeResult]) -> list[str]:
    """Write the item analysis markdown and charts; return their relative paths."""
    data = analyse(specs, results)
    atomic_write(out / "item-analysis.md", markdown(lab, data))
    return ["item-analysis.md", *charts(out, lab, data)]
