"""Evaluate expressions and string interpolation over a run's variables, as a caller would expect.

Values are plain JSON data: strings, integers, booleans, and whatever an AI result holds (numbers,
objects, lists, null). Rules chosen for people who are not programmers:

- `==` / `!=` between a number and a string that spells a number compare the numbers
  (`digits == 5` holds when the caller pressed `5`); two strings compare as text (`"007" != "7"`).
- `<`, `<=`, `>`, `>=` compare numbers when both sides are numbers or text of a whole number
  (`"10" > "9"`, `"0042" == 42`), text when both are other text; between a number and anything
  that is not a number (text like `"12a"` or `""`, true/false, an object) they are false, never
  an error (LANGUAGE.md 10).
- `+` and `-` add and subtract whole numbers; text of digits counts as the number it spells.
  A side that is not a number counts as 0, and the interpreter logs a warning naming it.
- `in` with a list is membership using `==` above; with a string it asks "is it part of the text".
- A condition holds when it is `true`, a non-empty string, a non-zero number, a non-empty list
  or object; `""`, `0`, `false`, null and an unset variable do not hold.
- Reading an unset variable gives `""` (and the interpreter logs a warning).
- In speech and in a text message a list of plain values is written as a list (`A1, B2 and C3`);
  anywhere else, and for a record, a value spliced into text is its JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from flowlang.program import OpeningHours
from flowlang.runtime.events import WEEKDAYS
from flowlang.runtime.spoken import say_as, say_list
from flowlang.syntax import nodes

__all__ = [
    "EvalError",
    "arithmetic",
    "compare",
    "contains",
    "equal",
    "evaluate",
    "interpolate",
    "is_open",
    "is_plain_list",
    "lookup",
    "text_of",
    "truthy",
    "whole_number",
]


class EvalError(Exception):
    """An expression cannot be evaluated (for example `"abc" < 3`); the message says why."""


Missing = Callable[[str], None]
# Told of a `{value as FORMAT}` whose value does not fit, or whose language has no words for
# the format: (the braces, the value).
Unfit = Callable[[nodes.Interp, str], None]
# Told of each value spliced into speech: (the braces, whether it was set, the value, its words).
Heard = Callable[[nodes.Interp, bool, Any, str], None]


def lookup(variables: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    """The value at dotted `path` (`booking.name`): `(True, value)`, or `(False, "")` when unset.
    A list answers `first`, `last` (unset when it is empty) and `count` (`orders.first.id`)."""
    value: Any = variables
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part == "count":
            value = len(value)
        elif isinstance(value, list) and value and part in ("first", "last"):
            value = value[0 if part == "first" else -1]
        else:
            return False, ""
    return True, value


def text_of(value: Any) -> str:
    """How a value reads when spliced into text: `true`/`false`, `2` for 2.0, "" for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def interpolate(
    text: nodes.Str,
    variables: Mapping[str, Any],
    missing: Missing,
    language: str | None = None,
    unfit: Unfit | None = None,
    escape: Callable[[str], str] | None = None,
    listed: bool = False,
    heard: Heard | None = None,
) -> str:
    """`text` with each `{path}` replaced by its value; `missing(path)` is told of unset ones.

    A `{path as FORMAT}` is said in the wording of `language` (None: Telnyx's default);
    `unfit` is told of a value that does not fit its format (it is then left as written).
    `escape`, when given, is applied to each value spliced in (a URL's percent-encoding).
    `listed` makes `text` one a person reads (a text message): a list of plain values is put as
    a list in the words of `language` (`A1, B2 and C3`), each item in the braces' format.
    `heard`, when given, makes `text` speech: listed, and `heard` is told of every value spliced
    in, whether it was set, and the words it became."""
    if len(text.parts) == 1 and isinstance(text.parts[0], str):
        return text.parts[0]
    out = []
    for part in text.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        found, value = lookup(variables, part.path)
        if not found:
            missing(part.dotted)
        if (listed or heard is not None) and is_plain_list(value):
            spliced = say_list([_formatted(part, text_of(v), language, unfit) for v in value],
                               language)
        else:
            spliced = text_of(value)
            if found:
                spliced = _formatted(part, spliced, language, unfit)
        if heard is not None:
            heard(part, found, value, spliced)
        out.append(escape(spliced) if escape is not None else spliced)
    return "".join(out)


def _formatted(part: nodes.Interp, text: str, language: str | None, unfit: Unfit | None) -> str:
    """`text` in the format `part` asks for, if any; `unfit` is told when it does not fit."""
    if part.format is None:
        return text
    said, fits = say_as(text, part.format, language)
    if not fits and unfit is not None:
        unfit(part, text)
    return said


def is_plain_list(value: Any) -> bool:
    """Whether `value` is a list a caller can hear as one: of text, numbers, yes/no and nulls,
    with no record or list inside."""
    return isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)


def truthy(value: Any) -> bool:
    """Whether a condition with this value holds (see the module's rules)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None


def equal(left: Any, right: Any) -> bool:
    """`left == right` with numbers and numeric strings compared as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a == b
    return bool(left == right)


def _describe(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)


_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*")


def whole_number(value: Any) -> int | float | None:
    """The number `value` is, or spells as a whole number (`"0042"` is 42); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and len(value) < 4000 and _WHOLE.fullmatch(value):
        return int(value)
    return None


def compare(op: str, left: Any, right: Any) -> bool:
    """`left op right` for `<`, `<=`, `>`, `>=`; false for values with no order between them."""
    a, b = whole_number(left), whole_number(right)
    pair: tuple[Any, Any]
    if a is not None and b is not None:
        pair = (a, b)
    elif isinstance(left, str) and isinstance(right, str) and a is None and b is None:
        pair = (left, right)
    else:
        return False
    x: Any = pair[0]
    y: Any = pair[1]
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def arithmetic(op: str, left: Any, right: Any, warn: Missing) -> int | float:
    """`left + right` or `left - right` over whole numbers; `warn(value)` is told of a side that
    is not a number, which counts as 0."""
    a, b = whole_number(left), whole_number(right)
    if a is None:
        warn(_describe(left))
        a = 0
    if b is None:
        warn(_describe(right))
        b = 0
    return a + b if op == "+" else a - b


def _unset(expr: nodes.Expr, variables: Mapping[str, Any]) -> bool:
    return isinstance(expr, nodes.Var) and not lookup(variables, expr.path)[0]


def contains(item: Any, container: Any) -> bool:
    """`item in container`: membership in a list, or part of a text."""
    if isinstance(container, list):
        return any(equal(item, x) for x in container)
    if isinstance(container, str):
        return text_of(item) in container
    if isinstance(container, dict):
        return text_of(item) in container
    raise EvalError(f"`in` needs a list or text on its right, not {_describe(container)}")


def is_open(hours: OpeningHours, variables: Mapping[str, Any]) -> bool:
    """`open NAME`: whether `hours` are open at the run's time (the built-in variable `now`)."""
    now = variables.get("now")
    if not isinstance(now, Mapping) or now.get("weekday") not in WEEKDAYS:
        raise EvalError(
            f"`open {hours.name}` needs the time of the call, and this run was not given one"
        )
    hour, minute = now.get("hour"), now.get("minute")
    if not isinstance(hour, int) or not isinstance(minute, int):
        raise EvalError(f"`open {hours.name}` needs the time of the call: `now` was changed")
    return hours.is_open(str(now.get("date")), WEEKDAYS.index(now["weekday"]), hour * 60 + minute)


def evaluate(
    expr: nodes.Expr,
    variables: Mapping[str, Any],
    missing: Missing,
    warn: Missing | None = None,
    hours: Mapping[str, OpeningHours] | None = None,
) -> Any:
    """The value of `expr`; `missing` is told of unset variables, `warn` of a value that is not
    a number where one was needed; `hours` are the program's opening hours by name, for
    `open NAME`. Raises EvalError when it cannot be computed."""
    if isinstance(expr, nodes.OpenTest):
        table = (hours or {}).get(expr.name.value)
        if table is None:
            raise EvalError(f"`open {expr.name.value}`: no `hours {expr.name.value}:` in this flow")
        return is_open(table, variables)
    if isinstance(expr, nodes.Str):
        return interpolate(expr, variables, missing)
    if isinstance(expr, (nodes.Int, nodes.Bool)):
        return expr.value
    if isinstance(expr, nodes.Var):
        found, value = lookup(variables, expr.path)
        if not found:
            missing(expr.dotted)
        return value
    if isinstance(expr, nodes.ListExpr):
        return [evaluate(item, variables, missing, warn, hours) for item in expr.items]
    if isinstance(expr, nodes.Not):
        return not truthy(evaluate(expr.operand, variables, missing, warn, hours))
    op = expr.op
    if op == "and":
        left = evaluate(expr.left, variables, missing, warn, hours)
        return truthy(left) and truthy(evaluate(expr.right, variables, missing, warn, hours))
    if op == "or":
        left = evaluate(expr.left, variables, missing, warn, hours)
        return truthy(left) or truthy(evaluate(expr.right, variables, missing, warn, hours))
    left = evaluate(expr.left, variables, missing, warn, hours)
    right = evaluate(expr.right, variables, missing, warn, hours)
    if op in ("<", "<=", ">", ">="):
        # A missing value (an optional AI field left out, a variable never set) has no order.
        if _unset(expr.left, variables) or _unset(expr.right, variables):
            return False
        return compare(op, left, right)
    if op == "==":
        return equal(left, right)
    if op == "!=":
        return not equal(left, right)
    if op == "in":
        return contains(left, right)
    if op in ("+", "-"):
        return arithmetic(op, left, right, warn or _ignore)
    raise EvalError(f"unknown operator {op!r}")


def _ignore(value: str) -> None:
    return None
