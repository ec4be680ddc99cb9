"""Phone numbers as Telnyx takes them: E.164 (`+13125550100`) or a `sip:` URI, with fix hints."""

from __future__ import annotations

import re

__all__ = ["number_problem"]

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
SIP = re.compile(r"sips?:[^@\s]+@[^@\s]+|sips?:[^@\s]+")
_SEPARATORS = re.compile(r"[\s().\-/]")


def number_problem(text: str) -> tuple[str, str] | None:
    """Why `text` is not a number Telnyx can call or text (a message and a help line with the
    fix), or None when it is one."""
    if E164.fullmatch(text) or SIP.fullmatch(text):
        return None
    digits = _SEPARATORS.sub("", text)
    if not text:
        return "the number is empty", 'write it in E.164 form, like "+13125550100"'
    if E164.fullmatch(digits):
        return (
            f'"{text}" has spaces or punctuation in it',
            f'write it as one run of digits after the `+`: "{digits}"',
        )
    if digits.isdigit():
        if len(digits) == 10:
            guess = "+1" + digits
            return (
                f'"{text}" is missing its `+` and country code',
                f'a number in the US or Canada is written "{guess}"; elsewhere, `+` and the '
                "country code go first",
            )
        if E164.fullmatch("+" + digits):
            return f'"{text}" is missing its `+`', f'write "+{digits}"'
    if text.lower().startswith("sip") and "@" in text:
        return f'"{text}" is not a SIP address', 'write it like "sip:alice@example.com"'
    return (
        f'"{text}" is not a phone number',
        'write it in E.164 form ("+" and the country code, then the number, like '
        '"+13125550100") or as a SIP address ("sip:alice@example.com")',
    )
