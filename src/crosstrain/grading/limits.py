"""The limits a submission is graded under, in one place."""

from __future__ import annotations

from dataclasses import asdict, dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps for unpacking a submission and for running its code.

    ``timeout`` is the wall-time limit of each notebook or script (``None``: the lab's own
    ``submission.time_limit``); ``memory_mb`` caps each process's data segment and the resident
    memory of the whole process tree.
    """

    timeout: float | None = None
    memory_mb: int = 1024
    output_kb: int = 64  # captured stdout+stderr kept per run (head and tail)
    disk_mb: int = 512  # the submission's folder and any one file it writes
    max_processes: int = 64  # live processes in the tree
    sandbox_mb: int = 1024  # the submission's unit holds memory_mb + this (sandbox, workers)
    max_tasks: int = 1024  # processes and threads in the submission's unit (cgroup pids.max)
    max_files: int = 2000  # files in a submission
    max_file_mb: int = 50  # one file in a submission
    max_total_mb: int = 200  # a submission, uncompressed
    max_ratio: int = 200  # uncompressed / compressed size of a zip

    def as_dict(self) -> dict:
        return asdict(self)
