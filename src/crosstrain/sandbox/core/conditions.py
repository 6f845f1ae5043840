"""IAM policy ``Condition`` blocks, evaluated as AWS evaluates them.

A condition block is ``{operator: {key: value or [values]}}``: every operator must hold, every key
of an operator must hold, and a key holds when the request's value matches *any* of the listed
values. Operators: ``String*``, ``Numeric*``, ``Date*``, ``Bool``, ``BinaryEquals``,
``IpAddress``/``NotIpAddress``, ``Arn*``, ``Null``, each with the ``...IfExists`` suffix and the
``ForAllValues:``/``ForAnyValue:`` set prefixes.

A key missing from the request context is treated as AWS treats it: positive operators are false,
negated operators (``StringNotEquals``, ``NotIpAddress``, ...) and ``...IfExists`` are true,
``ForAllValues`` is true, ``ForAnyValue`` is false, ``Null: true`` is true. An operator this module
does not know makes the condition false and is reported (never silently true, which is what let
moto apply every conditional Deny).
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache

Values = list[str]
Context = Mapping[str, str | list[str]]
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@lru_cache(maxsize=512)
def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern:
    """``*`` (any run) and ``?`` (one character) wildcards, everything else literal."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).match(value) is not None


def substitute(value: str, context: Context) -> str:
    """Replace policy variables (``${aws:username}``, ``${*}``, ``${key, 'default'}``)."""

    def one(match: re.Match) -> str:
        inner = match.group(1).strip()
        if inner in ("*", "?", "$"):
            return inner
        name, _, default = inner.partition(",")
        found = context.get(name.strip())
        if isinstance(found, str):
            return found
        return default.strip().strip("'") if default else match.group(0)

    return _VARIABLE.sub(one, value) if "${" in value else value


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    number = _number(text)
    if number is not None:
        return datetime.fromtimestamp(number, UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ip(expected: str, actual: str) -> bool:
    try:
        network = ipaddress.ip_network(expected, strict=False)
        return ipaddress.ip_address(actual) in network
    except ValueError:
        return False


def _arn_like(expected: str, actual: str) -> bool:
    """ARNs match field by field (``arn:partition:service:region:account:resource``)."""
    want, have = expected.split(":", 5), actual.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(like(w, h) for w, h in zip(want, have, strict=True))


def _compare(cast: Callable[[str], object | None], test: Callable[[object, object], bool]):
    def check(expected: str, actual: str) -> bool:
        want, have = cast(expected), cast(actual)
        return want is not None and have is not None and test(have, want)

    return check


# operator -> (matches one expected value against one actual value, negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda e, a: e == a, False),
    "StringNotEquals": (lambda e, a: e == a, True),
    "StringEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), True),
    "StringLike": (like, False),
    "StringNotLike": (like, True),
    "NumericEquals": (_compare(_number, lambda a, e: a == e), False),
    "NumericNotEquals": (_compare(_number, lambda a, e: a == e), True),
    "NumericLessThan": (_compare(_number, lambda a, e: a < e), False),
    "NumericLessThanEquals": (_compare(_number, lambda a, e: a <= e), False),
    "NumericGreaterThan": (_compare(_number, lambda a, e: a > e), False),
    "NumericGreaterThanEquals": (_compare(_number, lambda a, e: a >= e), False),
    "DateEquals": (_compare(_date, lambda a, e: a == e), False),
    "DateNotEquals": (_compare(_date, lambda a, e: a == e), True),
    "DateLessThan": (_compare(_date, lambda a, e: a < e), False),
    "DateLessThanEquals": (_compare(_date, lambda a, e: a <= e), False),
    "DateGreaterThan": (_compare(_date, lambda a, e: a > e), False),
    "DateGreaterThanEquals": (_compare(_date, lambda a, e: a >= e), False),
    "Bool": (lambda e, a: e.lower() == a.lower(), False),
    "BinaryEquals": (lambda e, a: e == base64.b64encode(a.encode()).decode(), False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (lambda e, a: e == a, False),
    "ArnNotEquals": (lambda e, a: e == a, True),
    "ArnLike": (_arn_like, False),
    "ArnNotLike": (_arn_like, True),
}


def known_operator(operator: str) -> bool:
    base = operator.split(":", 1)[-1].removesuffix("IfExists")
    return base == "Null" or base in _OPERATORS


def _as_list(value) -> Values:
    if isinstance(value, list):
        return [_text(v) for v in value]
    return [_text(value)]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _key_holds(operator: str, expected: Values, actual: Values | None) -> bool:
    """One key of one operator (``actual`` is ``None`` when the key is not in the context)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    base = base.removesuffix("IfExists")
    if base == "Null":
        return any((v.lower() == "true") == (actual is None) for v in expected)
    match, negated = _OPERATORS[base]
    if actual is None:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def hit(value: str) -> bool:
        return any(match(e, value) for e in expected)

    if qualifier == "ForAllValues":
        return all(hit(v) != negated for v in actual)
    if qualifier == "ForAnyValue":
        return any(hit(v) != negated for v in actual)
    found = any(hit(v) for v in actual)
    return not found if negated else found


def holds(block: Mapping, context: Context, unknown: Callable[[str], None]) -> bool:
    """Whether a statement's ``Condition`` block holds for a request with ``context``.

    ``unknown`` is called with each operator this module does not know (then false).
    """
    for operator, keys in (block or {}).items():
        if not known_operator(operator):
            unknown(f"operator {operator}")
            return False
        if not isinstance(keys, Mapping):
            return False
        for key, raw in keys.items():
            expected = [substitute(v, context) for v in _as_list(raw)]
            value = _lookup(context, key)
            actual = None if value is None else _as_list(value)
            if not _key_holds(operator, expected, actual):
                return False
    return True


def _lookup(context: Context, key: str):
    """Context keys are case-insensitive, as in IAM."""
    if key in context:
        return context[key]
    lowered = key.lower()
    return next((v for k, v in context.items() if k.lower() == lowered), None)


def keys_of(block: Mapping) -> Iterable[str]:
    for keys in (block or {}).values():
        if isinstance(keys, Mapping):
            yield from keys
