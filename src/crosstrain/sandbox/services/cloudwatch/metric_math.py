"""Metric math for alarms: ``Metrics=[...]`` with ``Expression`` queries, evaluated per period.

Expressions are read with Python's own parser (``^`` is CloudWatch's power operator): numbers,
the ids of the alarm's other queries, ``+ - * / ^``, unary minus, parentheses, ``[m1, m2]``
arrays and the functions ``SUM``, ``AVG``, ``MIN``, ``MAX`` (of an array: one time series, per
timestamp; of one time series: a number, over all its datapoints, as CloudWatch does),
``METRICS()`` / ``METRICS("label part")``, ``ABS``, ``CEIL``, ``FLOOR`` and ``FILL(x, number)``.
A time series is a list of values per period (``None`` where there is no datapoint); arithmetic
with a missing value or a division by zero gives no datapoint. Anything else — ``SEARCH``,
``ANOMALY_DETECTION_BAND``, ``IF``, comparisons, Metrics Insights SQL — raises
:class:`MathError` when the alarm is put.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

from crosstrain.sandbox.services.cloudwatch.alarms import AlarmError

Series = list  # list[float | None], one value per period, oldest first

_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum,
    "AVG": lambda v: sum(v) / len(v),
    "MIN": min,
    "MAX": max,
}
_ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": math.ceil,
    "FLOOR": math.floor,
}
FUNCTIONS = (*_AGGREGATES, *_ELEMENTWISE, "FILL", "METRICS")


class MathError(AlarmError):
    """A metric-math expression the sandbox does not evaluate (named in the message)."""


@dataclass(frozen=True)
class Query:
    id: str
    label: str | None = None
    expression: str | None = None
    metric: tuple | None = None  # (namespace, name, ((dim, value), ...), stat) for MetricStat


def parse(query_id: str, expression: str, known: set[str]) -> ast.Expression:
    """Read ``expression``; raises :class:`MathError` for what the sandbox does not evaluate."""
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise MathError(f"metric math {query_id}: cannot read expression {expression!r}") from None
    for node in ast.walk(tree):
        _allowed(query_id, node, known)
    return tree


_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Call, ast.List)


def _allowed(query_id: str, node: ast.AST, known: set[str]) -> None:
    where = f"metric math {query_id}"
    if isinstance(node, ast.Load):
        return
    if isinstance(node, ast.operator | ast.unaryop):
        if type(node) not in _OPS and not isinstance(node, ast.USub | ast.UAdd):
            raise MathError(f"{where}: operator {type(node).__name__} is not evaluated")
        return
    if not isinstance(node, _NODES):
        raise MathError(
            f"{where}: {type(node).__name__} is not evaluated by the crosstrain sandbox "
            "(comparisons, IF, AND/OR are not)"
        )
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else "?"
        if name not in FUNCTIONS or node.keywords:
            raise MathError(
                f"{where}: function {name}() is not evaluated by the crosstrain sandbox "
                f"(it evaluates {', '.join(FUNCTIONS)} and + - * / ^)"
            )
    elif isinstance(node, ast.Name) and node.id not in known and node.id not in FUNCTIONS:
        raise MathError(f"{where}: {node.id} is not the id of another query of this alarm")
    elif isinstance(node, ast.Constant) and (
        isinstance(node.value, bool) or not isinstance(node.value, int | float | str)
    ):
        raise MathError(f"{where}: {node.value!r} is not a number")


class Evaluator:
    """Evaluate the queries of one alarm, given each MetricStat query's time series."""

    def __init__(self, queries: list[Query], series: dict[str, Series], periods: int):
        self.queries = {q.id: q for q in queries}
        self.order = [q.id for q in queries]
        self.values: dict[str, object] = dict(series)
        self.periods = periods
        self._busy: set[str] = set()

    def result(self, query_id: str) -> Series:
        """The query's time series (a number is repeated over every period)."""
        value = self.value(query_id)
        if isinstance(value, list) and value and isinstance(value[0], list):
            raise MathError(f"metric math {query_id}: an alarm needs one time series, not many")
        if not isinstance(value, list):
            return [value] * self.periods
        return value

    def value(self, query_id: str):
        if query_id in self.values:
            return self.values[query_id]
        if query_id in self._busy:
            raise MathError(f"metric math {query_id}: the expressions refer to each other")
        self._busy.add(query_id)
        query = self.queries[query_id]
        tree = parse(query_id, query.expression or "", set(self.queries))
        self.values[query_id] = self._eval(tree.body)
        return self.values[query_id]

    def _eval(self, node: ast.AST):
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in self.queries:
                raise MathError(f"{node.id} is a function; call it: {node.id}(...)")
            return self.value(node.id)
        if isinstance(node, ast.List):
            return [self._eval(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp):
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            return _apply(lambda v: sign * v, self._eval(node.operand))
        if isinstance(node, ast.BinOp):
            return _combine(_OPS[type(node.op)], self._eval(node.left), self._eval(node.right))
        return self._call(node)

    def _call(self, node: ast.Call):
        name = node.func.id
        args = [self._eval(a) for a in node.args]
        if name == "METRICS":
            part = args[0] if args else ""
            return [
                self.values[q]
                for q in self.order
                if self.queries[q].metric is not None and part in (self.queries[q].label or q)
            ]
        if name == "FILL":
            if len(args) != 2 or not isinstance(args[1], float):
                raise MathError("FILL(series, number) is what the sandbox evaluates")
            return _apply(lambda v: v, args[0], fill=args[1])
        if len(args) != 1:
            raise MathError(f"{name}() takes one argument")
        if name in _ELEMENTWISE:
            return _apply(_ELEMENTWISE[name], args[0])
        return _aggregate(_AGGREGATES[name], args[0])


def _is_array(value) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], list)


def _apply(function, value, fill: float | None = None):
    if _is_array(value):
        return [_apply(function, v, fill) for v in value]
    if isinstance(value, list):
        return [_apply(function, v, fill) for v in value]
    if value is None:
        return None if fill is None else function(fill)
    return function(value)


def _safe(op, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    try:
        return float(op(a, b))
    except (ZeroDivisionError, OverflowError, ValueError):
        return None


def _combine(op, left, right):
    if _is_array(left):
        return [_combine(op, part, right) for part in left]
    if _is_array(right):
        return [_combine(op, left, part) for part in right]
    if isinstance(left, list) and isinstance(right, list):
        return [_safe(op, a, b) for a, b in zip(left, right, strict=True)]
    if isinstance(left, list):
        return [_safe(op, a, right) for a in left]
    if isinstance(right, list):
        return [_safe(op, left, b) for b in right]
    return _safe(op, left, right)


def _aggregate(reduce, value):
    if _is_array(value):  # per period, across the series
        columns = zip(*value, strict=True)
        return [_reduce(reduce, list(column)) for column in columns]
    if isinstance(value, list):  # one series: a number over its datapoints
        return _reduce(reduce, value)
    return value


def _reduce(reduce, values: list) -> float | None:
    present = [v for v in values if v is not None]
    return float(reduce(present)) if present else None
