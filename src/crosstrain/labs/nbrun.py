"""The one notebook runner: execute a notebook top to bottom with nbclient, say how it went.

:func:`execute` runs it and returns ``{ok, cell, ename, evalue, message}``; the self-test calls
it directly. Grading runs it inside the isolation (``python -I -m crosstrain.labs.nbrun NOTEBOOK
TIMEOUT``, never in the grader process), where it prints one marked JSON line, only ever used
for the words of the report, never for points. Outputs kept in memory are capped, so a notebook
printing gigabytes cannot exhaust the runner.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MARKER = "@@crosstrain-nbrun@@"
OUTPUT_BUDGET = 1 << 20


def _client_class():
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """Keeps at most ``OUTPUT_BUDGET`` bytes of cell outputs in memory."""

        kept = 0

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            if self.kept + size > OUTPUT_BUDGET and msg["msg_type"] != "error":
                return None
            self.kept += size
            return super().output(outs, msg, display_id, cell_index)

    return CappedClient


def execute(path: Path, timeout: float, env: dict[str, str] | None = None) -> dict:
    """Run the notebook at ``path`` (its kernel gets ``env``, default ours); return
    ``{ok, cell, ename, evalue, message}``."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable notebook is a report
        return {"ok": False, "message": f"is not a readable notebook ({type(exc).__name__})"}
    failed: dict = {}

    def on_error(cell, cell_index, execute_reply):
        content = execute_reply["content"]
        failed.update(cell=cell_index + 1, ename=content["ename"], evalue=content["evalue"])

    client = _client_class()(
        nb,
        timeout=int(timeout),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_error=on_error,
        shutdown_kernel="immediate",
    )
    try:
        if env is None:
            client.execute(cwd=str(path.parent))
        else:
            client.execute(cwd=str(path.parent), env=env, stderr=subprocess.DEVNULL)
    except CellExecutionError:
        evalue = str(failed.get("evalue", ""))[:300]
        message = f"cell {failed.get('cell', '?')} raised {failed.get('ename', 'an error')}"
        return {"ok": False, **failed, "message": f"{message}: {evalue}" if evalue else message}
    except CellTimeoutError:
        return {"ok": False, "message": f"a cell ran longer than {timeout:g} s"}
    except DeadKernelError:
        return {"ok": False, "message": "the kernel died (out of memory or killed)"}
    except Exception as exc:  # noqa: BLE001 - report, never crash
        return {"ok": False, "message": f"could not run: {type(exc).__name__}: {exc}"}
    return {"ok": True, "message": "ran to the end"}


def main() -> None:
    # jsonschema's optional IRI checker (rfc3987_syntax) compiles a grammar for ~4 s at import;
    # notebook validation never uses it, so the runner skips it.
    sys.modules.setdefault("rfc3987_syntax", None)
    report = execute(Path(sys.argv[1]).resolve(), float(sys.argv[2]))
    sys.stdout.write(f"\n{MARKER} {json.dumps(report)}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
