"""The code on a lab page, as a learner meets it: parsed in order, and run like a doctest.

A lab page (``docs/labs/NN-slug.md``) is a sequence of fenced code blocks and check markers
(``<!-- check: STEP -->``). :func:`parse` reads it; :func:`run_page` runs it the way the page
tells a learner to work, so page code cannot drift from the kit:

1. a fresh ephemeral sandbox and a fresh workspace holding the lab's starter;
2. a Python kernel in the lab's folder, in the workbench's environment (the sandbox's, real
   credentials scrubbed), which runs the lab's notebook as a learner works through it: its
   opening cells first (imports, clients, constants, the data), each step's given cells
   (e.g. "the next cell creates the role") when the page reaches that step, and, once the step
   is done, its worked answer from the solution notebook (so later blocks see the names a
   learner's notebook holds by then);
3. every block in page order: ``python`` blocks in that kernel, ``bash`` blocks in a shell with
   the same environment, from the lab's folder (where a JupyterLab terminal opens next to
   the lab's notebook);
4. at each check marker, the step's reference solve (files and sandbox state) and its worked
   answer, so the next step's blocks start from the state the page says ("after the previous
   steps").

A block that is not meant to run is marked on the line before its fence with
``<!-- illustrative -->`` (optionally ``<!-- illustrative: why -->``). Any other language must be
marked so; the build fails on an unmarked one and counts the marked ones.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from crosstrain.labs.markers import LINE

RUNNABLE = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
CHECK = LINE  # the one marker grammar (crosstrain.labs.markers)
ILLUSTRATIVE = re.compile(r"^[ \t]*<!--\s*illustrative\b.*-->[ \t]*$")


@dataclass
class Block:
    """One fenced code block of a page."""

    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    illustrative: bool = False

    @property
    def runner(self) -> str | None:
        """``python`` or ``bash`` for a block that runs; ``None`` for an illustrative one."""
        return None if self.illustrative else RUNNABLE.get(self.lang)


@dataclass
class Marker:
    """A check marker: after it, the page is in the state "step done"."""

    line: int
    step: str


@dataclass
class Page:
    path: Path
    items: list[Block | Marker] = field(default_factory=list)

    @property
    def blocks(self) -> list[Block]:
        return [item for item in self.items if isinstance(item, Block)]

    def problems(self) -> list[str]:
        """Blocks that neither run nor say they are illustrative, one line each."""
        return [
            f"{self.path}:{b.line}: a ```{b.lang or '(no language)'} block cannot run; make it "
            "python or bash, or mark it <!-- illustrative --> on the line before"
            for b in self.blocks
            if not b.illustrative and b.lang not in RUNNABLE
        ]


def parse(text: str, path: Path | str = "page") -> Page:
    """The page's code blocks and check markers, in order (fences inside admonitions too)."""
    page = Page(Path(path))
    lines = text.split("\n")
    i, marked = 0, False
    while i < len(lines):
        line = lines[i]
        opening = FENCE.match(line)
        if opening is None:
            if CHECK.match(line):
                page.items.append(Marker(i + 1, CHECK.match(line)["step"]))
            if line.strip():
                marked = bool(ILLUSTRATIVE.match(line))
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        page.items.append(Block(i + 1, opening["lang"].lower(), "\n".join(body), marked))
        marked = False
        i = j + 1
    return page


@dataclass
class Section:
    """A step's part of a notebook: the given cells before the answer, then the rest."""

    before: list[str] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)


def notebook_sections(notebook: Path, steps: list[str]) -> dict[str | None, Section]:
    """A notebook's code cells by step (``None``: the opening, before the first step's heading).

    A step's section starts at a heading naming its id in backticks. ``before`` holds the
    given cells up to the learner's first answer cell (nbgrader's ``solution`` cells); ``rest``
    the answer and every cell after it (in a solution notebook: the worked answer).
    """
    import nbformat

    sections: dict[str | None, Section] = {None: Section()}
    current, answered = None, False
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            named = [s for s in steps if re.search(rf"^#+ .*`{re.escape(s)}`", cell.source, re.M)]
            if named:
                current, answered = named[0], False
                sections.setdefault(current, Section())
            continue
        if cell.cell_type != "code":
            continue
        answered = (
            answered
            or bool((cell.metadata.get("nbgrader") or {}).get("solution"))
            or "### BEGIN SOLUTION" in cell.source
        )
        section = sections.setdefault(current, Section())
        (section.rest if answered else section.before).append(cell.source)
    return sections


@dataclass
class PageRun:
    """What running a page did: blocks run, marked illustrative, and the first failure."""

    ran: int = 0
    illustrative: int = 0
    failure: str | None = None


@contextmanager
def workbench(lab) -> Iterator[tuple]:
    """A fresh sandbox, a workspace with the lab's starter, and the workbench's environment."""
    from crosstrain import sandbox
    from crosstrain.labs.catalog import content_root
    from crosstrain.labs.workspace import start_workspace
    from crosstrain.web.safe_env import safe_env

    with (
        tempfile.TemporaryDirectory(prefix="crosstrain-page-") as tmp,
        sandbox.start(enforce_iam=lab.manifest.sandbox.enforce_iam) as sb,
    ):
        root = Path(tmp) / "workspace"
        folder = start_workspace(lab, root).workspace
        env = safe_env(sb, Path(tmp) / "aws")
        env |= {
            "CROSSTRAIN_WORKSPACE": str(root),
            "CROSSTRAIN_SANDBOX_PORT": str(sb.port),
            "CROSSTRAIN_HOME": str(Path(tmp) / "home"),
            "CROSSTRAIN_CONTENT_DIR": str(content_root()),
        }
        yield sb, root, folder, env


def run_page(lab, page: Page, say: Callable[[str], None] = lambda _: None) -> PageRun:
    """Run ``page``'s blocks for ``lab`` as described above; stop at the first failure."""
    import nbformat
    from nbclient import NotebookClient

    result = PageRun(illustrative=sum(b.illustrative for b in page.blocks))
    with workbench(lab) as (sb, root, folder, env):
        client = NotebookClient(
            nbformat.v4.new_notebook(), timeout=900, kernel_name="python3", allow_errors=False
        )
        client.resources = {"metadata": {"path": str(folder)}}
        try:
            with client.setup_kernel(env=env, cwd=str(folder)):
                runner = _PageRunner(lab, client, sb, folder, env, say)
                runner.opening()
                for item in page.items:
                    result.ran += runner.run(item, page.path)
        except PageFailure as failure:
            result.failure = str(failure)
    return result


class _PageRunner:
    """One page's run in one kernel: the lab notebook's cells around the page's blocks."""

    def __init__(self, lab, client, sb, folder: Path, env: dict, say: Callable[[str], None]):
        from crosstrain.labs.solves import load_solves

        self.lab, self.client, self.sb = lab, client, sb
        self.folder, self.env, self.say = folder, env, say
        self.solves = load_solves(lab)
        self.steps = lab.manifest.step_ids
        notebooks = lab.manifest.submission.notebooks
        self.notebook = notebooks[0] if notebooks else ""
        self.sections: dict[str | None, Section] = (
            notebook_sections(lab.solution_dir / self.notebook, self.steps) if notebooks else {}
        )
        self.pending: dict[str | None, list[str]] = {}

    def cell(self, source: str, where: str) -> None:
        import nbformat
        from nbclient.exceptions import CellExecutionError

        nb = self.client.nb
        nb.cells.append(nbformat.v4.new_code_cell(source))
        try:
            self.client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
        except CellExecutionError as err:
            raise PageFailure(f"{where}: {last_line(str(err))}") from None

    def enter(self, step: str | None) -> None:
        """Run a step's given cells; from the first that fails (it needs the learner's work,
        e.g. a function in a file), wait for the step's solve."""
        cells = self.sections.get(step, Section()).before
        for n, source in enumerate(cells):
            try:
                self.cell(source, "given cell")
            except PageFailure:
                self.pending[step] = cells[n:]
                return

    def finish(self, step: str | None) -> None:
        """The learner's side of a finished step: the cells that waited for it, then the
        worked answer and the cells after it, from the solution."""
        section = self.sections.get(step, Section())
        for source in self.pending.pop(step, []) + section.rest:
            self.cell(source, f"{self.notebook} (step {step or 'opening'}, as solved)")

    def opening(self) -> None:
        self.enter(None)
        self.finish(None)
        self.enter(self.steps[0])

    def run(self, item: Block | Marker, path: Path | str) -> int:
        """Run one page item; return how many blocks ran (0 or 1)."""
        from crosstrain.labs.solves import run_solve

        if isinstance(item, Marker):
            self.say(f"solve {item.step}")
            run_solve(self.solves.steps[item.step], self.lab, self.sb, self.folder)
            self.finish(item.step)
            following = self.steps.index(item.step) + 1
            self.enter(self.steps[following] if following < len(self.steps) else "")
            return 0
        where = f"{path}:{item.line}"
        if item.runner == "python":
            self.say(f"python block at line {item.line}")
            self.cell(item.code, where)
        elif item.runner == "bash":
            self.say(f"bash block at line {item.line}")
            self.bash(item.code, where)
        else:
            return 0
        return 1

    def bash(self, code: str, where: str) -> None:
        import subprocess

        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", code],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip()
            raise PageFailure(f"{where}: exit {done.returncode}: {last_line(said)}")


class PageFailure(Exception):
    """A block of the page failed (the message names the page line and the error)."""


def last_line(text: str) -> str:
    """The line that says what went wrong (an exception's last line, colour codes removed)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text).strip().splitlines()
    errors = [line for line in plain if re.match(r"^\w*(Error|Exception|Exit)\b", line)]
    return (errors or plain or ["(no output)"])[-1].strip()
