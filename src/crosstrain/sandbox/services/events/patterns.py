"""EventBridge event patterns and input transformers, to AWS's documented semantics.

A pattern is a JSON object whose leaves are arrays of conditions; an event matches when every
field of the pattern matches (``$or`` offers alternatives). A field matches when any of its
conditions matches the event's value — or any element, when the event's value is an array.
Conditions: a literal (string, number — compared numerically —, ``true``/``false``, ``null``),
``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard``, ``anything-but`` (a value, a list,
or a ``prefix``/``suffix``/``equals-ignore-case``/``wildcard`` inside it), ``numeric``
(``[">", 0, "<=", 5]``), ``exists`` and ``cidr``. SNS filter policies use the same grammar
(:func:`sns_attributes` turns message attributes into the object they are matched against).

:func:`validate` raises :class:`PatternError` with AWS's ``InvalidEventPatternException``
wording, so ``PutRule`` can refuse a bad pattern at configuration time as AWS does.
"""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from typing import Any

_MISSING = object()
_OPERATORS = {
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "equals-ignore-case",
    "wildcard",
    "cidr",
}
_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}


class PatternError(ValueError):
    """A pattern AWS would refuse (``InvalidEventPatternException``)."""


def loads(pattern: str | dict) -> dict:
    """Parse and validate a pattern given as JSON text or an object."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError as exc:
            raise PatternError(f"Event pattern is not valid JSON: {exc}") from None
    validate(pattern)
    return pattern


def validate(pattern: Any, path: str = "") -> None:
    """Raise :class:`PatternError` unless ``pattern`` is a well-formed event pattern."""
    if not isinstance(pattern, dict):
        raise PatternError(f"Event pattern{_at(path)} must be a JSON object")
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError(f"$or{_at(path)} must be an array of at least 2 patterns")
            for alternative in value:
                validate(alternative, path)
        elif isinstance(value, dict):
            validate(value, where)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"Empty arrays are not allowed: {where}")
            for condition in value:
                _validate_condition(condition, where)
        else:
            raise PatternError(
                f"Match value must be String, number, true, false, or null: {where} "
                '(put match values in an array, e.g. ["value"])'
            )


def _at(path: str) -> str:
    return f" at {path}" if path else ""


def _validate_condition(condition: Any, where: str) -> None:
    if condition is None or isinstance(condition, str | int | float | bool):
        return
    if not isinstance(condition, dict) or len(condition) != 1:
        raise PatternError(f"Each match condition at {where} must be a value or one operator")
    ((op, arg),) = condition.items()
    if op not in _OPERATORS:
        raise PatternError(f"Unrecognized match type {op} at {where}")
    if op in ("prefix", "suffix"):
        if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"}:
            arg = arg["equals-ignore-case"]
        if not isinstance(arg, str):
            raise PatternError(f"{op} match pattern must be a string at {where}")
    elif op in ("equals-ignore-case", "wildcard"):
        if not isinstance(arg, str):
            raise PatternError(f"{op} match pattern must be a string at {where}")
    elif op == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"exists match pattern must be either true or false at {where}")
    elif op == "numeric":
        _numeric_ranges(arg, where)
    elif op == "cidr":
        try:
            ipaddress.ip_network(arg, strict=False)
        except (TypeError, ValueError):
            raise PatternError(f"Malformed CIDR, one '/' required at {where}") from None
    elif op == "anything-but":
        if isinstance(arg, dict):
            if len(arg) != 1 or next(iter(arg)) not in (
                "prefix",
                "suffix",
                "equals-ignore-case",
                "wildcard",
            ):
                raise PatternError(f"Unsupported anything-but pattern at {where}")
        elif isinstance(arg, list):
            if not all(isinstance(v, str | int | float) for v in arg):
                raise PatternError(f"Inside anything-but list, only values are allowed at {where}")
        elif not isinstance(arg, str | int | float):
            raise PatternError(f"Unsupported anything-but pattern at {where}")


def _numeric_ranges(arg: Any, where: str = "") -> list[tuple[str, float]]:
    if not isinstance(arg, list) or not arg or len(arg) % 2:
        raise PatternError(f"numeric match must be an array of operator/value pairs at {where}")
    pairs = []
    for op, value in zip(arg[::2], arg[1::2], strict=True):
        if op not in _NUMERIC_OPS:
            raise PatternError(f"Unrecognized numeric range operator: {op} at {where}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PatternError(f"Value of {op} must be numeric at {where}")
        pairs.append((op, float(value)))
    return pairs


# -- matching --------------------------------------------------------------------------------
def matches(pattern: dict, event: Any) -> bool:
    """Whether ``event`` (an object) matches ``pattern`` (validated or not)."""
    if not isinstance(event, dict):
        return False
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in expected):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(expected, dict):
            if value is _MISSING:
                # a nested pattern of only "exists: false" conditions matches an absent object
                if not _all_absent_ok(expected):
                    return False
                continue
            if isinstance(value, list):
                if not any(matches(expected, item) for item in value):
                    return False
            elif not matches(expected, value):
                return False
        elif not _field_matches(expected, value):
            return False
    return True


def _all_absent_ok(pattern: dict) -> bool:
    for key, expected in pattern.items():
        if key == "$or":
            if not any(_all_absent_ok(alternative) for alternative in expected):
                return False
        elif isinstance(expected, dict):
            if not _all_absent_ok(expected):
                return False
        elif not _field_matches(expected, _MISSING):
            return False
    return True


def _field_matches(conditions: list, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for condition in conditions:
        if isinstance(condition, dict) and "exists" in condition:
            present = value is not _MISSING and not isinstance(value, dict)
            if isinstance(value, list) and not value:
                present = False
            if present == condition["exists"]:
                return True
            continue
        if value is _MISSING:
            continue
        if any(_condition_matches(condition, item) for item in values):
            return True
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(expected: Any, value: Any) -> bool:
    if _is_number(expected) and _is_number(value):
        return float(expected) == float(value)
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    return expected == value and type(expected) is type(value)


def _condition_matches(condition: Any, value: Any) -> bool:
    if not isinstance(condition, dict):
        return _equal(condition, value)
    ((op, arg),) = condition.items()
    if op == "numeric":
        return _is_number(value) and _in_ranges(arg, float(value))
    if op == "anything-but":
        return _anything_but(arg, value)
    if op == "cidr":
        return _in_cidr(arg, value)
    if not isinstance(value, str):
        return False
    return _string_op(op, arg, value)


def _string_op(op: str, arg: Any, value: str) -> bool:
    if op in ("prefix", "suffix"):
        fold = isinstance(arg, dict)
        text = arg["equals-ignore-case"] if fold else arg
        subject = value.casefold() if fold else value
        text = text.casefold() if fold else text
        return subject.startswith(text) if op == "prefix" else subject.endswith(text)
    if op == "equals-ignore-case":
        return value.casefold() == arg.casefold()
    if op == "wildcard":
        return _wildcard(arg).fullmatch(value) is not None
    return False


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        ((op, inner),) = arg.items()
        return isinstance(value, str) and not _string_op(op, inner, value)
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_equal(item, value) for item in excluded)


def _in_ranges(arg: list, number: float) -> bool:
    for op, bound in _numeric_ranges(arg):
        ok = {
            "=": number == bound,
            "<": number < bound,
            "<=": number <= bound,
            ">": number > bound,
            ">=": number >= bound,
        }[op]
        if not ok:
            return False
    return True


def _in_cidr(arg: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(arg, strict=False)
    except ValueError:
        return False


@lru_cache(maxsize=256)
def _wildcard(text: str) -> re.Pattern:
    parts = re.split(r"(?<!\\)\*", text)
    return re.compile(".*".join(re.escape(part.replace("\\*", "*")) for part in parts), re.S)


# -- SNS filter policies ---------------------------------------------------------------------
def sns_attributes(attributes: dict) -> dict:
    """SNS ``MessageAttributes`` (``{"Type": ..., "Value": ...}``) as the object a filter policy
    with scope ``MessageAttributes`` is matched against."""
    result = {}
    for name, attribute in (attributes or {}).items():
        kind = attribute.get("Type") or attribute.get("DataType", "String")
        raw = attribute.get("Value", attribute.get("StringValue"))
        if kind == "Number":
            try:
                result[name] = float(raw)
            except (TypeError, ValueError):
                result[name] = raw
        elif kind == "String.Array":
            try:
                result[name] = json.loads(raw)
            except (TypeError, ValueError):
                result[name] = raw
        elif kind.startswith("Binary"):
            continue  # AWS ignores binary attributes when filtering
        else:
            result[name] = raw
    return result


# -- input transformers ----------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def transform(
    event: dict,
    input_paths: dict[str, str] | None,
    template: str,
    *,
    rule_arn: str = "",
    rule_name: str = "",
) -> str:
    """Apply an input transformer (``InputPathsMap`` + ``InputTemplate``) to ``event``.

    Inside a JSON string a placeholder takes the value's text; elsewhere its JSON. A path that
    selects nothing gives ``null`` (or nothing inside a string), as on AWS.
    """
    values: dict[str, Any] = {}
    for name, path in (input_paths or {}).items():
        values[name] = json_path(event, path)
    values["aws.events.event"] = event
    values["aws.events.event.json"] = event
    values["aws.events.rule-arn"] = rule_arn
    values["aws.events.rule-name"] = rule_name
    values["aws.events.event.ingestion-time"] = event.get("time", "")
    out: list[str] = []
    in_string = False
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        chunk = template[position : match.start()]
        in_string = _scan_quotes(chunk, in_string)
        out.append(chunk)
        name = match.group(1)
        if name not in values:
            out.append(match.group(0))
        else:
            out.append(_render(values[name], in_string))
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def _scan_quotes(chunk: str, in_string: bool) -> bool:
    escaped = False
    for char in chunk:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
    return in_string


def _render(value: Any, in_string: bool) -> str:
    if in_string:
        if value is None:
            return ""
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return json.dumps(text)[1:-1]
    if value is None:
        return "null"
    if isinstance(value, str):
        return value  # AWS inserts a string value as is outside quotes
    return json.dumps(value, separators=(",", ":"))


def json_path(document: Any, path: str) -> Any:
    """The value at JSONPath ``path`` (``$.detail.key``), ``None`` when nothing is there."""
    from jsonpath_ng.ext import parse

    if path in ("$", ""):
        return document
    found = [m.value for m in _compiled(path, parse).find(document)]
    if not found:
        return None
    return found[0] if len(found) == 1 and "[*]" not in path else found


@lru_cache(maxsize=256)
def _compiled(path: str, parse):
    return parse(path)
