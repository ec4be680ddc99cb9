"""`terminator none` makes `#` an ordinary key for the gather rules (FL301, FL304)."""

from __future__ import annotations

from flowlang.lint import check_source
from flowlang.source import Source

FLOW = """\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    gather terminator {terminator} valid "0123456789#":
        say "Enter your code."
        on digits "12#": say "Code one two pound."
        on invalid: hangup
        on timeout: hangup
    hangup
"""


def codes(terminator: str, flow: str = FLOW) -> list[str]:
    source = Source("t.flow", flow.replace("{terminator}", terminator))
    return sorted(d.code for d in check_source(source))


def test_with_hash_as_terminator_both_rules_fire() -> None:
    assert codes('"#"') == ["FL301", "FL304"]


def test_terminator_none_makes_hash_an_ordinary_key() -> None:
    assert codes("none") == []


def test_an_empty_terminator_string_points_at_terminator_none() -> None:
    source = Source("t.flow", FLOW.replace("{terminator}", '""'))
    (found,) = [d for d in check_source(source) if d.code == "FL304"]
    assert found.help is not None and "terminator none" in found.help


PROMPT = """\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    gather{terminator}:
        say "For sales press 1. When you are done, press pound."
        on digits "1": say "Sales."
        on invalid: hangup
        on timeout: hangup
    hangup
"""


def test_pressing_the_terminator_is_no_option_the_prompt_offers() -> None:
    assert codes("", PROMPT) == []
    assert codes(' terminator "*"', PROMPT) == ["FL407"]


def test_with_terminator_none_an_offered_hash_needs_its_branch() -> None:
    assert codes(" terminator none", PROMPT) == ["FL407"]


def test_keys_read_from_a_variable_are_refused_not_sent_as_braces() -> None:
    # They were sent as written: `terminating_digit: "{key}"`, `valid_digits: "{keys}"`.
    flow = FLOW.replace("    answer\n", '    answer\n    set key = "*"\n')
    assert codes('"{key}"', flow) == ["FL304"]
    assert codes("none", flow.replace('valid "0123456789#"', 'valid "{key}1"')) == ["FL304"]
