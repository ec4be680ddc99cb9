"""The shared phone-number check: what Telnyx can dial passes, and every suggested fix does."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowlang.lint.numbers import number_problem

E164 = st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True)


def suggestion(fix: str) -> str | None:
    found = re.search(r"`(\+[0-9]+)`", fix)
    return found.group(1) if found else None


@given(E164)
def test_every_e164_number_passes(number: str) -> None:
    assert number_problem(number) is None


@given(
    E164, st.lists(st.sampled_from([" ", "-", ".", "(", ")"]), min_size=1, max_size=4), st.data()
)
def test_a_number_with_separators_is_fixed_back_to_itself(number: str, marks, data) -> None:
    text = number
    for mark in marks:
        at = data.draw(st.integers(2, len(text)))
        text = text[:at] + mark + text[at:]
    found = number_problem(text)
    assert found is not None
    assert suggestion(found.fix) == number


@pytest.mark.parametrize(
    ("text", "problem", "fixed"),
    [
        ("312-555-0101", "missing the `+` and the country code", "+13125550101"),
        ("13125550101", "missing the `+`", "+13125550101"),
        ("0044 20 7946 0958", "international prefix `00`", "+442079460958"),
        ("+1 (312) 555-0101", "spaces or punctuation", "+13125550101"),
    ],
)
def test_common_mistakes_get_a_number_that_works(text: str, problem: str, fixed: str) -> None:
    found = number_problem(text)
    assert found is not None and problem in found.problem
    assert suggestion(found.fix) == fixed
    assert number_problem(fixed) is None


@pytest.mark.parametrize("text", ["sip:support@example.com", "sip:pbx.example.com", "SIPS:a@b"])
def test_sip_addresses_pass(text: str) -> None:
    assert number_problem(text) is None


@pytest.mark.parametrize("text", ["", "sales", "+0123", "+1234567890123456", "sip: a@b", "sip:"])
def test_what_cannot_be_dialled_is_reported(text: str) -> None:
    assert number_problem(text) is not None
