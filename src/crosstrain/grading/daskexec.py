"""Grade on a Dask cluster: ``crosstrain grade --executor dask --scheduler tcp://HOST:PORT``.

Each submission is one task. The client (the ``crosstrain grade`` process) ships what a worker
needs with the task — the submission's bytes (a folder is zipped, its symlinks kept as links so
nothing outside it is read) and, once per batch, the lab's starter kit and graders — so workers
need only crosstrain installed (``pip install 'crosstrain[dask]'``), no shared storage. Each
worker process builds its grader once per batch (checks imported once, its own uid range, its
own sandbox zygote) and grades exactly as ``--executor local`` does: same isolation, same
checks, same result. Results come back as plain data and are saved by the client to the same
resumable grade store, once per submission: a task of a lost worker is re-run by Dask
elsewhere and its result still arrives once; a task that keeps failing (e.g. a worker without
crosstrain) becomes an ``error`` row, retried by the next run, and the batch goes on.

The course secret travels to the workers with the tasks: use ``tls://`` or a trusted network.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.errors import CrosstrainError
from crosstrain.grading.executors import RESUME, progress_bar
from crosstrain.grading.results import GradeResult, GradeStatus

if TYPE_CHECKING:
    from crosstrain.grading.grader import Grader, Submission
    from crosstrain.grading.store import GradeStore

CONNECT_TIMEOUT = "10s"
RETRIES = 2  # a task that raised is tried again (possibly elsewhere) before it is an error row
_CACHE: dict[str, tuple] = {}
_LOCK = threading.Lock()


def connect(scheduler: str | None):
    """A client of the scheduler at ``scheduler``, or a one-line error naming the way out."""
    try:
        from distributed import Client
    except ImportError:
        raise CrosstrainError(
            "--executor dask needs dask.distributed: pip install 'crosstrain[dask]' "
            "(or grade here with --executor local)"
        ) from None
    if not scheduler:
        raise CrosstrainError("--executor dask needs --scheduler tcp://HOST:PORT")
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise CrosstrainError(
            f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}); start it "
            "(`dask scheduler`) or grade here with --executor local"
        ) from None


def course_bundle(lab) -> bytes:
    """The lab's starter kit (with its manifest) and graders, zipped for the workers."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, prefix in ((lab.lab_dir, "labs"), (lab.grader_dir, "graders")):
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder)
                if path.is_file() and "__pycache__" not in rel.parts:
                    archive.write(path, f"{prefix}/{lab.slug}/{rel.as_posix()}")
    return buffer.getvalue()


def pack(path: Path) -> bytes:
    """A submission as bytes: a zip as it is, a folder zipped without following any link."""
    if path.is_file() and not path.is_symlink():
        return path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for here, dirs, files in os.walk(path, followlinks=False):
            for name in sorted([*dirs, *files]):
                item = Path(here, name)
                rel = item.relative_to(path).as_posix()
                if item.is_symlink():  # kept as a link: unpacking judges where it points
                    info = zipfile.ZipInfo(rel)
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    archive.writestr(info, os.readlink(item))
                elif item.is_file():
                    archive.write(item, rel)
    return buffer.getvalue()


def run_dask(
    grader: Grader,
    todo: list[Submission],
    store: GradeStore,
    scheduler: str | None,
    *,
    pool: bool = True,
    show: bool = True,
) -> None:
    """Grade ``todo`` on the cluster, saving each result in ``store`` as it arrives."""
    from distributed import as_completed

    from crosstrain.grading.grader import fingerprint

    client = connect(scheduler)
    futures: dict = {}
    bar = progress_bar(show)
    try:
        course = client.scatter(course_bundle(grader.lab), broadcast=True, hash=False)
        job = {
            "lab": grader.lab.slug,
            "secret": grader.secret,
            "limits": grader.limits.as_dict(),
            "policy": grader.policy,
            "pool": pool,
            "contain": grader.contain,
        }
        with bar:
            task = bar.add_task("grading", total=len(todo), lab=grader.lab.slug)
            for sub in todo:
                future = client.submit(
                    grade_remote, job, sub.student, pack(sub.path), course,
                    retries=RETRIES, pure=False,
                )  # fmt: skip
                futures[future] = sub
            for future in as_completed(list(futures), loop=client.loop):
                sub = futures.pop(future)
                try:
                    result = GradeResult.from_dict(future.result())
                except Exception as exc:  # noqa: BLE001 - failed on every try: an error row
                    message = (
                        f"grading failed on the cluster: {type(exc).__name__}: {exc}; "
                        "run the same command again to retry"
                    )
                    result = grader.result(sub, GradeStatus.ERROR, message)
                result.fingerprint = fingerprint(sub.path)  # what resuming compares
                store.save(result)
                bar.advance(task)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise CrosstrainError(RESUME, exit_code=130) from None
    finally:
        client.close()


# -- on the worker ------------------------------------------------------------------------------


def grade_remote(job: dict, student: str, payload: bytes, course: bytes) -> dict:
    """Grade one submission on a worker; only plain data goes back."""
    from crosstrain.grading.grader import Submission
    from crosstrain.grading.outfiles import safe_name

    grader, inbox = worker_grader(job, course)
    folder = Path(tempfile.mkdtemp(dir=inbox))
    try:
        path = folder / f"{safe_name(student)}.zip"
        path.write_bytes(payload)
        return grader.grade_one(Submission(student, path)).as_dict()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def worker_grader(job: dict, course: bytes) -> tuple[Grader, Path]:
    """This worker process's grader for the batch, built once: the course unpacked, the checks
    imported, a uid range reserved and a sandbox zygote started."""
    key = hashlib.sha256(json.dumps(job, sort_keys=True).encode() + course).hexdigest()
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _build(job, course)
        return _CACHE[key]


def _build(job: dict, course: bytes) -> tuple[Grader, Path]:
    from crosstrain.grading import isolate, policy
    from crosstrain.grading.batch import start_zygote
    from crosstrain.grading.checking import grader_fingerprint
    from crosstrain.grading.grader import Grader
    from crosstrain.grading.limits import Limits
    from crosstrain.grading.reserve import reserve
    from crosstrain.labs.catalog import Lab
    from crosstrain.labs.checks import load_checks
    from crosstrain.sandbox import lifecycle

    root = Path(tempfile.mkdtemp(prefix="crosstrain-course-"))
    with zipfile.ZipFile(io.BytesIO(course)) as archive:
        archive.extractall(root)
    os.chmod(root, 0o755)
    inbox = Path(tempfile.mkdtemp(prefix="crosstrain-inbox-"))
    lab = Lab(root, job["lab"])
    if str(policy.current(lab, job["secret"])) != job["policy"]:
        raise RuntimeError("the course this worker received does not match the client's")
    grader = Grader(
        lab,
        load_checks(lab),
        Limits(**job["limits"]),
        job["secret"],
        isolate.default_isolation(),
        grader_fingerprint(lab),
        hide=[root, inbox, Path.home(), lifecycle.home()],
        policy=job["policy"],
        contain=job["contain"],
    )
    grader.reservation = reserve()
    if job["pool"]:
        grader.zygote = start_zygote(grader.reservation.root)

    def close() -> None:
        if grader.zygote is not None:
            grader.zygote.close()
        grader.reservation.release()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(inbox, ignore_errors=True)

    atexit.register(close)
    return grader, inbox
