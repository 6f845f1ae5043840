"""The one grammar of check-widget markers on a lab page: the site build and the self-test share it.

A marker is an HTML comment alone on its line, outside any fenced code block::

    <!-- check: STEP_ID -->

(indentation is allowed, e.g. inside an admonition). Anything else that looks like a marker is a
problem, because the built page would show no widget for it: a marker with other text on its
line, or a marker inside a fenced code block (it renders as code) -- unless that block is marked
``<!-- illustrative -->`` on the line before its fence (a page showing how a marker is written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LINE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*check:\s*(?P<step>[^\s>]*?)\s*-->[ \t]*$")
LOOKS_LIKE = re.compile(r"<!--\s*check\s*:")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")
ILLUSTRATIVE = re.compile(r"^[ \t]*<!--\s*illustrative\b.*-->[ \t]*$")


@dataclass(frozen=True)
class CheckMarker:
    line: int  # 1-based
    step: str
    indent: str = ""


@dataclass
class MarkerScan:
    """The markers of a page, in order, and one line per malformed one."""

    markers: list[CheckMarker] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def steps(self) -> list[str]:
        return [m.step for m in self.markers]


def scan(text: str, where: str = "page") -> MarkerScan:
    """Every check marker of ``text``; a marker-like comment that would not render is a problem."""
    out = MarkerScan()
    fence: str | None = None
    shown = marked = False  # the open block / the next block is illustrative
    for number, line in enumerate(text.split("\n"), start=1):
        opening = FENCE.match(line)
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            elif LOOKS_LIKE.search(line) and not shown:
                out.problems.append(
                    f"{where}:{number}: a check marker inside a fenced code block renders as "
                    "code, not as a widget; close the fence before the marker (or mark the block "
                    "<!-- illustrative --> if it shows how a marker is written)"
                )
            continue
        if opening is not None:
            fence, shown, marked = opening["fence"], marked, False
            continue
        if line.strip():
            marked = bool(ILLUSTRATIVE.match(line))
        marker = LINE.match(line)
        if marker is not None:
            out.markers.append(CheckMarker(number, marker["step"], marker["indent"]))
        elif LOOKS_LIKE.search(line):
            out.problems.append(
                f"{where}:{number}: a check marker must be alone on its line "
                "(`<!-- check: STEP_ID -->`); move the other text to its own line"
            )
    return out
