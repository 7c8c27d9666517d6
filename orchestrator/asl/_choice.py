"""Choice rules for JSONPath Choice states (spec 5.2).

A rule is either a comparison (``Variable`` + exactly one operator) or a combinator
(``And``/``Or`` with a non-empty array of rules, ``Not`` with one rule). Comparisons never
coerce: when the value at ``Variable`` (or at the ``...Path`` operand) has the wrong type the
rule is simply false. Numbers compare as IEEE-754 doubles and a boolean is not a number;
strings compare like Java's ``String.compareTo`` (UTF-16 code units); timestamps compare as
instants. A ``Variable`` that selects nothing makes ``IsPresent`` false and every other
operator raise ``States.Runtime`` (AWS's observed behaviour and cause text).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from orchestrator.asl._paths import JsonPath, PathNotFound, PathSyntaxError, compile_path
from orchestrator.asl._timestamps import parse_timestamp
from orchestrator.asl.errors import Runtime

_Compare = Callable[[Any, Any], bool]

#: Keys of a rule that do not take part in matching.
_IGNORED_KEYS = frozenset({"Next", "Comment", "Assign", "Output"})


class ChoiceRuleError(ValueError):
    """A Choice rule with a bad shape; the message names the field and the value."""


def invalid_path_cause(path: str) -> str:
    """AWS's cause text when a Choice condition path selects nothing."""
    return f"Invalid path '{path}': The choice state's condition path references an invalid value."


class ChoiceRule:
    """A compiled Choice rule; ``matches`` says whether it is true for the state input."""

    __slots__ = ()

    def matches(self, data: Any, context: Mapping[str, Any] | None = None) -> bool:
        """Evaluate the rule.

        Raises:
            Runtime: a path used by the rule selects nothing (except under IsPresent).
        """
        raise NotImplementedError


def _is_number(value: Any) -> bool:
    return value.__class__ is int or value.__class__ is float


def _java_less(a: str, b: str) -> bool:
    if a.isascii() and b.isascii():
        return a < b
    return a.encode("utf-16-be", "surrogatepass") < b.encode("utf-16-be", "surrogatepass")


def _java_cmp(a: str, b: str) -> int:
    if a == b:
        return 0
    return -1 if _java_less(a, b) else 1


# Each kind: (value predicate, normaliser, comparison) for the constant/second operand.
_ORDER: dict[str, _Compare] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}


class _Comparison(ChoiceRule):
    """``Variable`` compared with a constant (or with a second path for ``...Path``)."""

    __slots__ = ("_variable", "_find", "_test", "_operand", "_operand_path")

    def __init__(
        self,
        variable: JsonPath,
        test: Callable[[Any, Any], bool],
        operand: Any = None,
        operand_path: JsonPath | None = None,
    ) -> None:
        self._variable = variable
        self._find = variable.find
        self._test = test
        self._operand = operand
        self._operand_path = operand_path

    def matches(self, data: Any, context: Mapping[str, Any] | None = None) -> bool:
        try:
            value = self._find(data, context)
        except PathNotFound:
            raise Runtime(invalid_path_cause(self._variable.text)) from None
        other_path = self._operand_path
        if other_path is None:
            return self._test(value, self._operand)
        try:
            other = other_path.find(data, context)
        except PathNotFound:
            raise Runtime(invalid_path_cause(other_path.text)) from None
        return self._test(value, other)


class _IsPresent(ChoiceRule):
    __slots__ = ("_find", "_expected")

    def __init__(self, variable: JsonPath, expected: bool) -> None:
        self._find = variable.find
        self._expected = expected

    def matches(self, data: Any, context: Mapping[str, Any] | None = None) -> bool:
        try:
            self._find(data, context)
        except PathNotFound:
            return not self._expected
        return self._expected


class _And(ChoiceRule):
    __slots__ = ("_rules",)

    def __init__(self, rules: tuple[ChoiceRule, ...]) -> None:
        self._rules = rules

    def matches(self, data: Any, context: Mapping[str, Any] | None = None) -> bool:
        return all(rule.matches(data, context) for rule in self._rules)


class _Or(_And):
    __slots__ = ()

    def matches(self, data: Any, context: Mapping[str, Any] | None = None) -> bool:
        return any(rule.matches(data, context) for rule in self._rules)


class _Not(ChoiceRule):
    __slots__ = ("_rule",)

    def __init__(self, rule: ChoiceRule) -> None:
        self._rule = rule

    def matches(self, data: Any, context: Mapping[str, Any] | None = None) -> bool:
        return not self._rule.matches(data, context)


# ---- comparison tests (value at Variable, operand) ----


def _numeric(compare: _Compare) -> Callable[[Any, Any], bool]:
    def test(value: Any, operand: Any) -> bool:
        if not (_is_number(value) and _is_number(operand)):
            return False
        return compare(float(value), float(operand))

    return test


def _string(compare: _Compare) -> Callable[[Any, Any], bool]:
    if compare is operator.eq:
        return lambda value, operand: (
            value.__class__ is str and operand.__class__ is str and value == operand
        )

    def test(value: Any, operand: Any) -> bool:
        if value.__class__ is not str or operand.__class__ is not str:
            return False
        return compare(_java_cmp(value, operand), 0)

    return test


def _boolean(value: Any, operand: Any) -> bool:
    return value.__class__ is bool and operand.__class__ is bool and value is operand


def _timestamp(compare: _Compare) -> Callable[[Any, Any], bool]:
    def test(value: Any, operand: Any) -> bool:
        left = parse_timestamp(value) if value.__class__ is str else None
        if left is None:
            return False
        if operand.__class__ is str:
            right = parse_timestamp(operand)
        elif isinstance(operand, datetime):  # a constant, parsed at compile time
            right = operand
        else:
            return False
        if right is None:
            return False
        return compare(left, right)

    return test


def _type_test(predicate: Callable[[Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda value, expected: predicate(value) is expected


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: v.__class__ is str,
    "IsBoolean": lambda v: v.__class__ is bool,
    "IsTimestamp": lambda v: v.__class__ is str and parse_timestamp(v) is not None,
}


def wildcard_matcher(pattern: str) -> Callable[[str], bool]:
    """Compile a StringMatches pattern: ``*`` matches any run of characters, ``\\*`` is a
    literal star and ``\\\\`` a literal backslash; any other backslash is literal (decision)."""
    pieces: list[str] = []
    literal: list[str] = []
    has_wildcard = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            literal.append(pattern[i + 1])
            i += 2
            continue
        if char == "*":
            pieces.append(re.escape("".join(literal)))
            literal = []
            pieces.append(".*")
            has_wildcard = True
        else:
            literal.append(char)
        i += 1
    if not has_wildcard:
        text = "".join(literal)
        return lambda value: value == text
    pieces.append(re.escape("".join(literal)))
    regex = re.compile("".join(pieces), re.DOTALL)
    return lambda value: regex.fullmatch(value) is not None


def _string_matches(pattern: str) -> Callable[[Any, Any], bool]:
    match = wildcard_matcher(pattern)
    return lambda value, _operand: value.__class__ is str and match(value)


# ---- compiling ----

_KINDS: dict[str, tuple[str, Callable[[_Compare], Callable[[Any, Any], bool]]]] = {
    "String": ("a string", _string),
    "Numeric": ("a number", _numeric),
    "Timestamp": ("a timestamp string", _timestamp),
}

#: Every comparison operator name (without the ``Path`` variants' suffix list).
OPERATORS: frozenset[str] = frozenset(
    [f"{kind}{order}" for kind in _KINDS for order in _ORDER]
    + [f"{kind}{order}Path" for kind in _KINDS for order in _ORDER]
    + ["BooleanEquals", "BooleanEqualsPath", "StringMatches", "IsPresent"]
    + list(_TYPE_TESTS)
)


def _compile_path(text: Any, field: str) -> JsonPath:
    if not isinstance(text, str) or not text.startswith("$"):
        raise ChoiceRuleError(f"Field '{field}' must be a path starting with '$', got {text!r}")
    try:
        return compile_path(text)
    except PathSyntaxError as exc:
        raise ChoiceRuleError(f"Field '{field}' is not a valid path: {exc}") from None


def _comparison(op: str, operand: Any, variable: JsonPath) -> ChoiceRule:
    if op == "IsPresent" or op in _TYPE_TESTS:
        if not isinstance(operand, bool):
            raise ChoiceRuleError(f"Field '{op}' must be a boolean, got {operand!r}")
        if op == "IsPresent":
            return _IsPresent(variable, operand)
        return _Comparison(variable, _type_test(_TYPE_TESTS[op]), operand)
    if op == "StringMatches":
        if not isinstance(operand, str):
            raise ChoiceRuleError(f"Field '{op}' must be a string, got {operand!r}")
        return _Comparison(variable, _string_matches(operand))
    is_path = op.endswith("Path")
    base = op[:-4] if is_path else op
    if base == "BooleanEquals":
        test: Callable[[Any, Any], bool] = _boolean
        expected = "a boolean"
        valid: Callable[[Any], bool] = lambda v: isinstance(v, bool)  # noqa: E731
    else:
        kind = next(k for k in _KINDS if base.startswith(k))
        expected, factory = _KINDS[kind]
        test = factory(_ORDER[base[len(kind):]])
        if kind == "String":
            valid = lambda v: isinstance(v, str)  # noqa: E731
        elif kind == "Numeric":
            valid = lambda v: _is_number(v)  # noqa: E731
        else:
            valid = lambda v: isinstance(v, str) and parse_timestamp(v) is not None  # noqa: E731
    if is_path:
        return _Comparison(variable, test, None, _compile_path(operand, op))
    if not valid(operand):
        raise ChoiceRuleError(f"Field '{op}' must be {expected}, got {operand!r}")
    if base.startswith("Timestamp"):
        operand = parse_timestamp(operand)  # parsed once
    return _Comparison(variable, test, operand)


def compile_choice_rule(rule: Mapping[str, Any]) -> ChoiceRule:
    """Compile a top-level or nested Choice rule (a ``Next`` key, if present, is ignored).

    Raises:
        ChoiceRuleError: not an object, no or several operators, a combinator with a bad
            operand, a constant of the wrong type, or an invalid path.
    """
    if not isinstance(rule, Mapping):
        raise ChoiceRuleError(f"A Choice rule must be an object, got {rule!r}")
    keys = [k for k in rule if k not in _IGNORED_KEYS]
    combinators = [k for k in keys if k in ("And", "Or", "Not")]
    if combinators:
        if len(keys) != 1:
            raise ChoiceRuleError(
                f"A Choice rule with '{combinators[0]}' cannot also have "
                f"{', '.join(repr(k) for k in keys if k != combinators[0])}"
            )
        name = combinators[0]
        operand = rule[name]
        if name == "Not":
            if not isinstance(operand, Mapping):
                raise ChoiceRuleError(f"Field 'Not' must be a Choice rule object, got {operand!r}")
            return _Not(compile_choice_rule(operand))
        if not isinstance(operand, list) or not operand:
            raise ChoiceRuleError(f"Field '{name}' must be a non-empty array of Choice rules")
        rules = tuple(compile_choice_rule(r) for r in operand)
        return _And(rules) if name == "And" else _Or(rules)
    if "Variable" not in rule:
        raise ChoiceRuleError(
            "A Choice rule needs 'Variable' and one comparison operator, or 'And'/'Or'/'Not'"
        )
    operators = [k for k in keys if k != "Variable"]
    unknown = [k for k in operators if k not in OPERATORS]
    if unknown:
        raise ChoiceRuleError(f"Unknown Choice rule field(s): {', '.join(unknown)}")
    if len(operators) != 1:
        found = ", ".join(operators) if operators else "none"
        raise ChoiceRuleError(
            f"A Choice rule must have exactly one comparison operator, found {found}"
        )
    variable = _compile_path(rule["Variable"], "Variable")
    return _comparison(operators[0], rule[operators[0]], variable)
