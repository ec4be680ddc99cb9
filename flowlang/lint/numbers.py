"""Whether a phone number can be dialled by Telnyx: E.164 or a `sip:` URI, with a fix when not."""

from __future__ import annotations

import re

from attrs import frozen

# `+`, a country code that does not start with 0, at most 15 digits in all (ITU-T E.164).
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# `sip:user@host` or `sip:host` (and `sips:`): anything after the scheme but spaces.
SIP_URI = re.compile(r"sips?:[^\s:@]+(@[^\s@]+)?", re.IGNORECASE)
# What people write around the digits of a number: spaces, dashes, dots, brackets.
_SEPARATORS = re.compile(r"[\s\-.()/]")
EXAMPLE = "+13125550101"


@frozen
class NumberProblem:
    """Why `text` is not a number Telnyx can dial (`problem`, to follow "it ..."), and the fix."""

    problem: str
    fix: str


def number_problem(text: str) -> NumberProblem | None:
    """None when `text` is an E.164 number (`+13125550101`) or a SIP URI; else what is wrong.

    Shared by every rule that checks a number written in a flow (`transfer`, its `from`, and
    any later statement that dials or texts a number): call it on the literal text of the
    string, and skip strings with `{...}` in them (their value is only known on the call).
    """
    if E164.fullmatch(text) or SIP_URI.fullmatch(text):
        return None
    if not text.strip():
        return NumberProblem(
            "is empty", f"write the number with `+` and the country code, like `{EXAMPLE}`"
        )
    if text.lower().startswith(("sip:", "sips:")):
        return NumberProblem(
            "is not a valid SIP address",
            "write it as `sip:user@example.com`, without spaces",
        )
    bare = _SEPARATORS.sub("", text)
    if E164.fullmatch(bare):
        return NumberProblem("has spaces or punctuation", f"write it as `{bare}`")
    digits = bare.removeprefix("+")
    if not digits.isdigit() or not digits.isascii():
        return NumberProblem(
            "is neither a phone number nor a `sip:` address",
            f"write a number with `+` and the country code, like `{EXAMPLE}`, "
            "or a SIP address like `sip:user@example.com`",
        )
    if digits.startswith("00") and E164.fullmatch("+" + digits[2:]):
        return NumberProblem(
            "starts with the international prefix `00`",
            f"write `+` instead of `00`: `+{digits[2:]}`",
        )
    if bare.startswith("+"):
        return NumberProblem(
            "is not a valid international number",
            f"after `+` come the country code and the number, at most 15 digits, like `{EXAMPLE}`",
        )
    if len(digits) == 10 and digits[0] not in "01":
        return NumberProblem(
            "is missing the `+` and the country code",
            f"Telnyx dials numbers in international form: in the US and Canada write `+1{digits}`",
        )
    if len(digits) == 11 and digits.startswith("1"):
        return NumberProblem("is missing the `+`", f"write it as `+{digits}`")
    return NumberProblem(
        "is missing the `+` and the country code",
        f"write the number in international form, with `+` and the country code, like `{EXAMPLE}`",
    )
