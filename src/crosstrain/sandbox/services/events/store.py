"""What the events runtime keeps across a restart, beside moto's own snapshots.

moto's snapshots already hold the rules, targets, subscriptions, mappings, queues (with their
messages), state machines and alarms. This file holds the rest, in ``<state_dir>/events/
state.json``, written atomically shortly after anything changed and when the sandbox stops: the
sandbox clock's offset, the deliveries not yet finished, when each schedule last fired, the
functions' dead-letter queues, alarm states and the recent delivery log. A clean stop waits for
running deliveries first, so a restart delivers nothing twice; after a crash, at most the
deliveries of the last half second may run again (AWS's own async delivery is at-least-once).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.sandbox.services.events.delivery import delivery_from_dict, delivery_to_dict
from crosstrain.sandbox.services.events.schedule import parse

if TYPE_CHECKING:
    from crosstrain.sandbox.services.events.runtime import EventsRuntime

log = logging.getLogger("crosstrain.sandbox.events")

FORMAT = 1
SAVE_EVERY = 0.5
LOG_KEPT = 2000


class EventsStore:
    def __init__(self, folder: Path, runtime: EventsRuntime):
        self.folder = folder
        self.path = folder / "state.json"
        self.rt = runtime
        self.extra: dict[str, dict] = {}  # other services' sections (e.g. "alarms")
        self._seen = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def restore(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text())
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')}")
        except (OSError, ValueError) as exc:
            aside = self.folder / f"state.corrupt-{os.getpid()}.json"
            self.path.rename(aside)
            log.warning("events state unreadable (%s); moved to %s", exc, aside)
            return
        rt = self.rt
        rt.clock.advance(max(0.0, float(data.get("clock_offset", 0.0))))
        rt.dlqs.update(data.get("dlqs", {}))
        rt.engine.log.load(data.get("log", []))
        rt.engine.restore([delivery_from_dict(d) for d in data.get("pending", [])])
        for key, job in data.get("schedules", {}).items():
            try:
                rt.scheduler.put(
                    key,
                    parse(job["expression"]),
                    anchor=datetime.fromisoformat(job["anchor"]),
                    last=datetime.fromisoformat(job["last"]) if job.get("last") else None,
                )
            except (KeyError, ValueError):
                continue
        self.extra = data.get("extra", {})

    def snapshot(self) -> dict:
        rt = self.rt
        return {
            "format": FORMAT,
            "clock_offset": rt.clock.offset,
            "dlqs": dict(rt.dlqs),
            "pending": [delivery_to_dict(d) for d in rt.engine.pending()],
            "schedules": {
                job.key: {
                    "expression": job.schedule.expression,
                    "anchor": job.anchor.isoformat(),
                    "last": job.last.isoformat() if job.last else None,
                }
                for job in rt.scheduler.jobs()
            },
            "log": rt.engine.log.dump()[-LOG_KEPT:],
            "extra": self.extra,
        }

    def save(self) -> None:
        with self._lock:
            self._seen = self.rt.engine.changes
            data = json.dumps(self.snapshot(), default=str).encode()
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)

    def touch(self) -> None:
        """Something outside the engine changed (schedules, alarms): save soon."""
        self._seen = -1

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="crosstrain-events-store", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        last_offset = self.rt.clock.offset
        while not self._stop.wait(SAVE_EVERY):
            offset = self.rt.clock.offset
            if self.rt.engine.changes != self._seen or offset != last_offset:
                last_offset = offset
                try:
                    self.save()
                except OSError:
                    log.exception("could not save the events state")

    def clear(self) -> None:
        self.extra = {}
        self.save()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.save()
        except OSError:
            log.exception("could not save the events state")
