"""Schedule expressions (``rate``, ``cron``, ``at``) and the sandbox clock that drives them.

AWS's cron has six fields — minutes, hours, day-of-month, month, day-of-week, year — with ``?``,
``L``, ``W`` and ``#``, day-of-week numbered 1 (SUN) to 7 (SAT), and exactly one of the two day
fields set to ``?``. :func:`parse` checks that grammar and hands the first five fields to croniter
(translated to its numbering); the year field is a filter on croniter's answers.

:class:`Clock` is the sandbox's notion of now: real time plus an offset that
:meth:`Clock.advance` moves forward, waking everything waiting on it (schedules, Step Functions
``Wait`` states, alarm periods), so tests and labs never wait for wall time.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DOW_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
MAX_SEARCH_YEARS = 200


class ScheduleError(ValueError):
    """A schedule expression AWS would refuse (``ValidationException``)."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression; :meth:`next_after` gives its next firing time."""

    expression: str
    kind: str  # "rate" | "cron" | "at"
    seconds: int = 0  # rate
    cron: str = ""  # croniter's five fields
    years: tuple[int, int] | None = None  # cron's year filter (inclusive range) or None: any
    year_set: frozenset[int] | None = None
    at: datetime | None = None

    def next_after(self, moment: datetime, anchor: datetime | None = None) -> datetime | None:
        """The first firing strictly after ``moment`` (``None``: never again).

        A rate fires every ``seconds`` counted from ``anchor`` (when the rule was created).
        """
        moment = _utc(moment)
        if self.kind == "rate":
            start = _utc(anchor or moment)
            if moment < start:
                return start + timedelta(seconds=self.seconds)
            periods = int((moment - start).total_seconds() // self.seconds) + 1
            return start + timedelta(seconds=periods * self.seconds)
        if self.kind == "at":
            return self.at if self.at > moment else None
        from croniter import croniter

        it = croniter(self.cron, moment.replace(second=0, microsecond=0))
        for _ in range(MAX_SEARCH_YEARS * 400):
            candidate = _utc(it.get_next(datetime))
            if candidate <= moment:
                continue
            if self._year_ok(candidate.year):
                return candidate
            if self.years and candidate.year > self.years[1] and not self.year_set:
                return None
            if candidate.year > moment.year + MAX_SEARCH_YEARS:
                return None
        return None

    def _year_ok(self, year: int) -> bool:
        if self.year_set is not None:
            return year in self.year_set
        if self.years is None:
            return True
        return self.years[0] <= year <= self.years[1]


def parse(expression: str) -> Schedule:
    """Parse ``rate(5 minutes)``, ``cron(0 12 * * ? *)`` or ``at(2026-12-24T18:00:00)``."""
    text = (expression or "").strip()
    if match := _RATE.match(text):
        value, unit = int(match.group(1)), match.group(2)
        if value <= 0:
            raise ScheduleError(f"Parameter ScheduleExpression is not valid: {text} (value > 0)")
        if (value == 1) != (not unit.endswith("s")):
            right = unit.rstrip("s") + ("" if value == 1 else "s")
            raise ScheduleError(
                f"Parameter ScheduleExpression is not valid: {text} (write rate({value} {right}))"
            )
        return Schedule(text, "rate", seconds=value * _UNIT_SECONDS[unit.rstrip("s")])
    if match := _AT.match(text):
        moment = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
        return Schedule(text, "at", at=moment)
    if match := _CRON.match(text):
        return _parse_cron(text, match.group(1).split())
    raise ScheduleError(
        f"Parameter ScheduleExpression is not valid: {text!r} "
        "(use rate(N minutes|hours|days) or cron(min hour day-of-month month day-of-week year))"
    )


def _parse_cron(text: str, fields: list[str]) -> Schedule:
    bad = f"Parameter ScheduleExpression is not valid: {text}"
    if len(fields) != 6:
        raise ScheduleError(f"{bad} (AWS cron has 6 fields: min hour dom month dow year)")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(f"{bad} (exactly one of day-of-month and day-of-week must be ?)")
    if "#" in dom or "#" in month or "W" in dow.upper():
        raise ScheduleError(bad)
    cron_fields = [minute, hour, "*" if dom == "?" else dom, month, _dow(dow, bad)]
    years, year_set = _years(year, bad)
    from croniter import croniter

    cron = " ".join(cron_fields)
    if not croniter.is_valid(cron):
        raise ScheduleError(bad)
    return Schedule(text, "cron", cron=cron, years=years, year_set=year_set)


def _dow(field: str, bad: str) -> str:
    """AWS day-of-week (1=SUN..7=SAT, ``6L``, ``6#3``) to croniter's (0=SUN..6=SAT, ``L5``)."""
    if field in ("?", "*"):
        return "*"

    def number(token: str) -> str:
        token = token.upper()
        value = _DOW_NAMES.get(token)
        if value is None:
            if not token.isdigit() or not 1 <= int(token) <= 7:
                raise ScheduleError(bad)
            value = int(token)
        return str(value - 1)

    parts = []
    for part in field.split(","):
        upper = part.upper()
        if upper.endswith("L") and len(upper) > 1:
            parts.append(f"L{number(upper[:-1])}")
        elif "#" in upper:
            day, nth = upper.split("#", 1)
            parts.append(f"{number(day)}#{nth}")
        elif "/" in upper:
            base, step = upper.split("/", 1)
            base = "*" if base == "*" else "-".join(number(x) for x in base.split("-"))
            parts.append(f"{base}/{step}")
        else:
            parts.append("-".join(number(x) for x in upper.split("-")))
    return ",".join(parts)


def _years(field: str, bad: str) -> tuple[tuple[int, int] | None, frozenset[int] | None]:
    if field in ("*", "?"):
        return None, None
    try:
        if re.fullmatch(r"\d{4}-\d{4}", field):
            low, high = (int(x) for x in field.split("-"))
            return (low, high), None
        return None, frozenset(int(x) for x in field.split(","))
    except ValueError:
        raise ScheduleError(bad) from None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- the clock -------------------------------------------------------------------------------
class Clock:
    """Wall time plus an offset that only moves forward; waiters wake when it moves."""

    def __init__(self, offset: float = 0.0):
        self._offset = float(offset)
        self._changed = threading.Condition()
        self.generation = 0  # bumped by every advance and poke

    @property
    def offset(self) -> float:
        return self._offset

    def time(self) -> float:
        """Seconds since the epoch, on the sandbox clock."""
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward (never back); returns the new offset."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward: give seconds >= 0")
        with self._changed:
            self._offset += seconds
            self.generation += 1
            self._changed.notify_all()
        return self._offset

    def reset(self) -> None:
        """Back to wall time (a sandbox reset: nothing that was scheduled is left)."""
        with self._changed:
            self._offset = 0.0
            self.generation += 1
            self._changed.notify_all()

    def wait_until(self, moment: float, stop: threading.Event | None = None) -> bool:
        """Block until the clock reaches ``moment`` (epoch seconds); ``False`` if ``stop`` was
        set first. Wakes early when the clock is advanced."""
        with self._changed:
            while True:
                if stop is not None and stop.is_set():
                    return False
                remaining = moment - self.time()
                if remaining <= 0:
                    return True
                self._changed.wait(min(remaining, 0.5 if stop is not None else remaining))

    def wait_change(
        self, moment: float, stop: threading.Event | None = None, seen: int | None = None
    ) -> None:
        """Block until the clock reaches ``moment``, or it is advanced or poked (after
        generation ``seen``), or ``stop`` is set — whichever comes first; callers re-read their
        state and call again."""
        with self._changed:
            stopped = stop is not None and stop.is_set()
            if stopped or (seen is not None and seen != self.generation):
                return
            remaining = moment - self.time()
            if remaining > 0:
                self._changed.wait(remaining)

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        return self.wait_until(self.time() + seconds, stop)

    def poke(self) -> None:
        """Wake every waiter (to re-read state, e.g. a new job or a stop request)."""
        with self._changed:
            self.generation += 1
            self._changed.notify_all()
