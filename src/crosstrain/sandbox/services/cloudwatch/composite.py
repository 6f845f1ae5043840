"""Composite alarm rules: ``ALARM(a) AND NOT (OK("b") OR INSUFFICIENT_DATA(c))``.

The grammar is AWS's (``PutCompositeAlarm``'s ``AlarmRule``): the functions ``ALARM``, ``OK`` and
``INSUFFICIENT_DATA`` of an alarm name or ARN (quoted or not), the constants ``TRUE`` and
``FALSE``, the operators ``NOT`` > ``AND`` > ``OR`` (in that order of binding) and parentheses.
:func:`parse` turns a rule into a small tree (or raises :class:`RuleError` naming what it could
not read); :func:`references` lists the alarms it names; :func:`holds` evaluates it against the
states of those alarms.
"""

from __future__ import annotations

from collections.abc import Callable

from crosstrain.sandbox.services.cloudwatch.alarms import AlarmError

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
Rule = tuple  # ("state", STATE, name) | ("const", bool) | ("not", r) | ("and"|"or", r, r)


class RuleError(AlarmError):
    """An AlarmRule the sandbox cannot read."""


def tokens(text: str) -> list[str]:
    """Split a rule into parentheses, quoted names (kept with their quotes) and words."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "(),":
            out.append(char)
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise RuleError(f"AlarmRule has an unclosed quote at character {i + 1}")
            out.append(text[i : end + 1])
            i = end + 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in '()",':
                i += 1
            out.append(text[start:i])
    return out


class _Parser:
    def __init__(self, text: str):
        self.items = tokens(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            wanted = f"'{expected}'" if expected else "more"
            raise RuleError(f"AlarmRule expected {wanted} but found {token or 'the end'}")
        self.at += 1
        return token

    def rule(self) -> Rule:
        found = self.any_of()
        if self.peek() is not None:
            raise RuleError(f"AlarmRule has '{self.peek()}' where AND, OR or the end belongs")
        return found

    def any_of(self) -> Rule:
        left = self.all_of()
        while self.peek() == "OR":
            self.take()
            left = ("or", left, self.all_of())
        return left

    def all_of(self) -> Rule:
        left = self.negation()
        while self.peek() == "AND":
            self.take()
            left = ("and", left, self.negation())
        return left

    def negation(self) -> Rule:
        if self.peek() == "NOT":
            self.take()
            return ("not", self.negation())
        return self.atom()

    def atom(self) -> Rule:
        token = self.take()
        if token == "(":
            inner = self.any_of()
            self.take(")")
            return inner
        if token in ("TRUE", "FALSE"):
            return ("const", token == "TRUE")
        if token in STATES:
            self.take("(")
            name = self.take()
            if name in "()," or name in STATES:
                raise RuleError(f"{token}() needs an alarm name or ARN")
            self.take(")")
            return ("state", token, name.strip('"'))
        if self.peek() == "(":
            raise RuleError(
                f"AlarmRule function {token}() is not evaluated by the crosstrain sandbox "
                "(use ALARM, OK, INSUFFICIENT_DATA, TRUE, FALSE with AND, OR, NOT)"
            )
        raise RuleError(f"AlarmRule cannot read '{token}'")


def parse(text: str) -> Rule:
    if not text or not text.strip():
        raise RuleError("AlarmRule is empty")
    return _Parser(text).rule()


def references(rule: Rule) -> list[str]:
    """The alarm names and ARNs a rule names, in order, once each."""
    if rule[0] == "state":
        return [rule[2]]
    found: list[str] = []
    for part in rule[1:]:
        if isinstance(part, tuple):
            found += [name for name in references(part) if name not in found]
    return found


def holds(rule: Rule, state_of: Callable[[str], str | None]) -> bool:
    """Whether ``rule`` is TRUE given each named alarm's state (``None``: no such alarm)."""
    kind = rule[0]
    if kind == "const":
        return rule[1]
    if kind == "state":
        return state_of(rule[2]) == rule[1]
    if kind == "not":
        return not holds(rule[1], state_of)
    if kind == "and":
        return holds(rule[1], state_of) and holds(rule[2], state_of)
    return holds(rule[1], state_of) or holds(rule[2], state_of)
