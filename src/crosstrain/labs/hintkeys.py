"""Hint keys checked statically: every ``Fail(..., hint="key")`` a check can raise must name a
hint the check declares, found when the graders load rather than when a case reaches it.

The grader's source is read with :mod:`ast`: for each check, the literal hint keys in its body and
in the module's functions it calls (directly or through other module functions). A key computed at
run time cannot be seen here; the runner still reports it as a check bug when it happens.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crosstrain.labs.checks import CheckSpec

# Calls that take a hint key: the check API and checkkit's helpers; (name, positional index).
HINTED = {"Fail": 1, "Score": 2, "learner_failed": 2}


@dataclass(frozen=True)
class UndeclaredHint:
    check: str
    key: str
    line: int
    declared: tuple[str, ...]

    @property
    def suggestion(self) -> str:
        close = difflib.get_close_matches(self.key, self.declared, n=1)
        return (
            f"did you mean {close[0]!r}?"
            if close
            else f"declare it in hints= or use one of {list(self.declared)}"
        )

    def describe(self, path: Path | str) -> str:
        return (
            f"{path}:{self.line}: check {self.check} raises hint {self.key!r}, which it does not "
            f"declare; {self.suggestion}"
        )


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _keys(fn: ast.AST) -> list[tuple[str, int]]:
    """Literal hint keys passed in ``fn``'s calls, with their line."""
    found = []
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call) or _name(node.func) not in HINTED:
            continue
        values = [k.value for k in node.keywords if k.arg == "hint"]
        index = HINTED[_name(node.func)]
        if not values and len(node.args) > index:
            values = [node.args[index]]
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append((value.value, node.lineno))
    return found


def _calls(fn: ast.AST) -> set[str]:
    return {
        node.func.id
        for node in ast.walk(fn)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def _functions(path: Path) -> dict[str, ast.AST]:
    tree = ast.parse(path.read_text(), str(path))
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _reachable(functions: dict[str, ast.AST], start: str) -> set[str]:
    """``start`` and the module functions it calls, directly or not."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        todo.extend(_calls(functions[name]))
    return seen


def undeclared_hints(path: Path, specs: list[CheckSpec]) -> list[UndeclaredHint]:
    """Hint keys the checks in ``path`` can raise but do not declare."""
    functions = _functions(path)
    found = []
    for spec in specs:
        declared = tuple(spec.hint_ids)
        for name in sorted(_reachable(functions, spec.name)):
            for key, line in _keys(functions[name]):
                if key not in declared:
                    found.append(UndeclaredHint(spec.name, key, line, declared))
    return found


def path_dependent(path: Path, specs: list[CheckSpec]) -> set[str]:
    """The checks that may behave differently with and without hidden data: those whose body,
    or a module function they call, reads ``.hidden`` or ``.grading`` (or whose source cannot
    be found: assume they do)."""
    functions = _functions(path)
    found = set()
    for spec in specs:
        if spec.name not in functions:
            found.add(spec.name)
            continue
        for name in _reachable(functions, spec.name):
            if any(
                isinstance(node, ast.Attribute) and node.attr in ("hidden", "grading")
                for node in ast.walk(functions[name])
            ):
                found.add(spec.name)
                break
    return found
