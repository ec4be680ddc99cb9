"""Expression evaluation and interpolation: the rules a non-programmer expects (see the module)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.runtime.expressions import (
    EvalError,
    arithmetic,
    compare,
    contains,
    equal,
    evaluate,
    interpolate,
    lookup,
    text_of,
    truthy,
)
from flowlang.syntax import nodes


def var(path: str) -> nodes.Var:
    return nodes.Var(tuple(path.split(".")))


def s(text: str) -> nodes.Str:
    return nodes.Str((text,))


def run(expr: nodes.Expr, variables: dict[str, Any] | None = None) -> tuple[Any, list[str]]:
    missing: list[str] = []
    return evaluate(expr, variables or {}, missing.append), missing


EQUAL = [
    ("5", 5, True), (5, "5", True), ("05", 5, True), ("5", "05", False), ("abc", "abc", True),
    (True, "true", False), (True, True, True), (1, True, False), ("", 0, False),
    (2.0, 2, True), (None, "", False),
]


@pytest.mark.parametrize(("a", "b", "expected"), EQUAL, ids=[f"{a!r}=={b!r}" for a, b, _ in EQUAL])
def test_equal(a: Any, b: Any, expected: bool) -> None:
    assert equal(a, b) is expected


ORDER = [
    ("<", "10", "9", False), ("<", "9", 10, True), (">=", 3, "3", True),
    ("<", "apple", "banana", True), (">", 2.5, 2, True), ("<=", "b", "a", False),
]


@pytest.mark.parametrize(("op", "a", "b", "expected"), ORDER,
                         ids=[f"{a!r}{op}{b!r}" for op, a, b, _ in ORDER])
def test_order(op: str, a: Any, b: Any, expected: bool) -> None:
    assert compare(op, a, b) is expected


@pytest.mark.parametrize(("a", "b"), [("abc", 3), ("*", 2), (True, 1), ({"a": 1}, "x"), (None, 1)],
                         ids=["text-number", "star", "bool", "object", "null"])
@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_order_without_meaning_is_false_never_an_error(op: str, a: Any, b: Any) -> None:
    # LANGUAGE.md section 10: a number against text that is not one is false, both ways round.
    assert compare(op, a, b) is False
    assert compare(op, b, a) is False


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_a_missing_value_is_never_in_order(op: str) -> None:
    # An optional ai_gather field left out reads as "" but has no order, against text or number.
    booking = {"booking": {"name": "Bob"}}
    for other in (nodes.Int(8), s("12:00"), s("")):
        for expr in (nodes.BinOp(op, var("booking.guests"), other),
                     nodes.BinOp(op, other, var("booking.guests"))):
            assert run(expr, booking) == (False, ["booking.guests"])


def test_in_list_text_and_error() -> None:
    assert contains("2", ["1", 2]) is True
    assert contains("3", ["1", "2"]) is False
    assert contains("ell", "hello") is True
    with pytest.raises(EvalError, match="needs a list"):
        contains("1", 5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("", False), ("x", True), (0, False), (3, True),
     (None, False), ([], False), ({"a": 1}, True)],
    ids=["true", "false", "empty", "text", "zero", "number", "null", "empty-list", "object"],
)
def test_truthy(value: Any, expected: bool) -> None:
    assert truthy(value) is expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (True, "true"), (False, "false"), (2.0, "2"), (2.5, "2.5"), (7, "7"),
     ({"a": 1}, '{"a": 1}'), (["x"], '["x"]')],
    ids=["null", "true", "false", "whole-float", "float", "int", "object", "list"],
)
def test_text_of(value: Any, text: str) -> None:
    assert text_of(value) == text


def test_interpolation_reads_dotted_paths_and_reports_missing_ones() -> None:
    text = nodes.Str(("Hi ", nodes.Interp(("b", "name")), ", ", nodes.Interp(("b", "age")), "!"))
    missing: list[str] = []
    out = interpolate(text, {"b": {"name": "Bo"}}, missing.append)
    assert out == "Hi Bo, !"
    assert missing == ["b.age"]


def test_operators_and_short_circuit() -> None:
    expr = nodes.BinOp("or", nodes.Bool(True), var("nope"))
    assert run(expr) == (True, [])
    expr = nodes.BinOp("and", nodes.Bool(False), var("nope"))
    assert run(expr) == (False, [])
    expr = nodes.Not(nodes.BinOp("in", var("digits"), nodes.ListExpr((s("1"), s("2")))))
    assert run(expr, {"digits": "2"}) == (False, [])
    assert run(nodes.BinOp("!=", var("x"), nodes.Int(3)), {"x": "3"}) == (False, [])
    assert run(var("ghost")) == ("", ["ghost"])


numbers = st.integers(-10_000, 10_000)


@settings(max_examples=200, deadline=None)
@given(a=numbers, b=numbers)
def test_numbers_and_their_spelling_compare_alike(a: int, b: int) -> None:
    for op in ("<", "<=", ">", ">="):
        assert compare(op, a, b) == compare(op, str(a), b) == compare(op, a, str(b))
        assert compare(op, str(a), str(b)) == compare(op, a, b)
    assert equal(a, str(b)) == (a == b)


@settings(max_examples=200, deadline=None)
@given(a=st.text(max_size=5), b=st.text(max_size=5))
def test_two_texts_are_equal_exactly_when_they_are_the_same_text(a: str, b: str) -> None:
    assert equal(a, b) == (a == b)


@pytest.mark.parametrize(("a", "b"), [("", 3), ("12a", 3), ("1.5", 3), ("9", "abc")],
                         ids=["empty", "digits-and-letters", "decimal-text", "digit-text-and-text"])
def test_only_whole_numbers_spelt_in_text_count_as_numbers_in_order(a: Any, b: Any) -> None:
    for op in ("<", "<=", ">", ">="):
        assert compare(op, a, b) is False
        assert compare(op, b, a) is False


ARITHMETIC = [
    ("+", 2, 3, 5), ("-", 2, 3, -1), ("+", "0042", 1, 43), ("-", "10", "4", 6),
    ("+", 1.5, 1, 2.5), ("-", " 7 ", 0, 7),
]


@pytest.mark.parametrize(("op", "a", "b", "expected"), ARITHMETIC,
                         ids=[f"{a!r}{op}{b!r}" for op, a, b, _ in ARITHMETIC])
def test_arithmetic_counts_numbers_and_text_of_digits(
    op: str, a: Any, b: Any, expected: Any
) -> None:
    warned: list[str] = []
    assert arithmetic(op, a, b, warned.append) == expected
    assert warned == []


@pytest.mark.parametrize("other", ["abc", "", "1*", None, True, [1], {"a": 1}])
def test_arithmetic_counts_what_is_not_a_number_as_zero_and_says_so(other: Any) -> None:
    warned: list[str] = []
    assert arithmetic("+", other, 5, warned.append) == 5
    assert arithmetic("-", 5, other, warned.append) == 5
    assert len(warned) == 2


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                 st.lists(st.integers(), max_size=2)),
       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)))
def test_counting_and_ordering_never_raise(a: Any, b: Any) -> None:
    for op in ("<", "<=", ">", ">="):
        assert isinstance(compare(op, a, b), bool)
    for op in ("+", "-"):
        assert isinstance(arithmetic(op, a, b, lambda _: None), int | float)


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))


@given(st.lists(_JSON_SCALARS, max_size=6))
def test_a_list_answers_its_first_last_and_count(items: list[Any]) -> None:
    # A backend's answer often holds a list (`{"orders": [...]}`): LANGUAGE.md 10 reads
    # `status.items.first`.
    variables = {"status": {"items": items}}
    assert lookup(variables, ("status", "items", "count")) == (True, len(items))
    expected = (True, items[0]) if items else (False, "")
    assert lookup(variables, ("status", "items", "first")) == expected
    expected = (True, items[-1]) if items else (False, "")
    assert lookup(variables, ("status", "items", "last")) == expected
    assert lookup(variables, ("status", "items", "second")) == (False, "")


def test_an_object_field_named_first_is_the_field() -> None:
    variables = {"r": {"first": "Ann", "count": 7, "orders": [{"id": "A1"}, {"id": "B2"}]}}
    assert lookup(variables, ("r", "first")) == (True, "Ann")
    assert lookup(variables, ("r", "count")) == (True, 7)
    assert lookup(variables, ("r", "orders", "last", "id")) == (True, "B2")
