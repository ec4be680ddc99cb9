"""What a gather's prompt tells the caller to press, as FL407 reads it: single keys, in digits or
words; a run of key words ("press one two three") is an entry of several keys, like "press 123",
and offers none of its keys alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flowlang.lint import check_source
from flowlang.lint.prompts import KEY_WORDS, mentioned_keys
from flowlang.source import Source

WORDS = sorted(KEY_WORDS)


@given(st.sampled_from(["press", "dial", "enter"]), st.sampled_from(WORDS))
def test_one_key_word_after_the_verb_is_that_key(verb: str, word: str) -> None:
    assert mentioned_keys(f"For the operator {verb} {word}.") == [KEY_WORDS[word]]


@given(st.lists(st.sampled_from(WORDS), min_size=2, max_size=6))
def test_a_run_of_key_words_is_an_entry_of_several_keys_not_its_first_key(
    words: list[str],
) -> None:
    run = " ".join(words)
    assert mentioned_keys(f"For the operator press {run}.") == []
    # The keys offered around the run are still read.
    assert mentioned_keys(f"Press {run} for the operator, or press star.") == ["*"]


def test_choices_in_words_are_each_read() -> None:
    assert mentioned_keys("Press one for yes or two for no, three for maybe.") == ["1", "2", "3"]


SEQUENCES = """\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    gather terminator none:
        say "Press pound one two for the operator, or one two pound for billing."
        on digits "#12": say "Operator."
        on digits "12#": say "Billing."
        on invalid: hangup
        on timeout: hangup
    hangup
"""


def test_entries_spelled_out_in_words_are_no_single_key_offers() -> None:
    codes = [d.code for d in check_source(Source("t.flow", SEQUENCES))]
    assert "FL407" not in codes
