"""Where submissions are graded: here, in threads (``--executor local``, the default), or on a
Dask cluster (:mod:`crosstrain.grading.daskexec`). Both save each result to the grade store the
moment it arrives, and show the same live bar (done / total, rate, elapsed, ETA).
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from crosstrain.errors import CrosstrainError
from crosstrain.grading import isolate

if TYPE_CHECKING:
    from crosstrain.grading.grader import Grader, Submission
    from crosstrain.grading.store import GradeStore

STOP_GRACE = 20.0  # seconds Ctrl-C waits for in-flight submissions before giving up on them
RESUME = "interrupted; every finished grade is saved: run the same command again to resume"


def progress_bar(show: bool):
    """The live bar: lab, bar, done/total, submissions per minute, elapsed, ETA."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed * 60:.1f}/min" if speed else "-/min")

    return Progress(
        TextColumn("grading {task.fields[lab]}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not show,
    )


def run_local(grader: Grader, todo: list[Submission], store: GradeStore, jobs: int, show: bool):
    """Grade ``todo`` here with ``jobs`` threads, saving each result as it finishes."""
    bar = progress_bar(show)
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
    pending: set = set()
    try:
        with bar:
            task = bar.add_task("grading", total=len(todo), lab=grader.lab.slug)
            pending = {pool.submit(grader.grade_one, sub) for sub in todo}
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    store.save(future.result())
                    bar.advance(task)
    except KeyboardInterrupt:
        grader.stop.set()
        isolate.kill_live()
        pool.shutdown(wait=False, cancel_futures=True)
        wait(pending, timeout=STOP_GRACE)  # in-flight submissions see the stop and end
        raise CrosstrainError(RESUME, exit_code=130) from None
    pool.shutdown(wait=True)
