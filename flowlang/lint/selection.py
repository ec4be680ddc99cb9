"""Which rule codes a run reports: `--select` / `--ignore` lists of codes or code prefixes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from attrs import frozen

CODE_PATTERN = re.compile(r"^FL\d{0,3}$")


class SelectionError(ValueError):
    """A `select` or `ignore` entry that is not a rule code or prefix (like `FL101` or `FL3`)."""


def parse_codes(
    items: Iterable[str], where: str, unless_empty: str | None = None
) -> tuple[str, ...]:
    """Normalise codes and prefixes (`fl101`, `FL3`, comma-separated lists); reject the rest.
    With `unless_empty` (how to fix it), no code at all is an error too: an empty `select`
    would report nothing, so a CI run would pass whatever the flows say."""
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            code = part.strip().upper()
            if not code:
                continue
            if not CODE_PATTERN.match(code):
                raise SelectionError(
                    f"{where}: `{part.strip()}` is not a rule code or prefix "
                    "(write codes like FL101, or a prefix like FL3 for a whole family)"
                )
            out.append(code)
    if not out and unless_empty is not None:
        raise SelectionError(
            f"{where} names no rule code, so no rule would be checked and every file would "
            f"pass; {unless_empty}"
        )
    return tuple(out)


def check_known(codes: Iterable[str], known: Iterable[str], where: str) -> None:
    """Reject a code or prefix that names no rule (a typo like `FL3011` would select nothing).
    Syntax errors (`FL0` and two digits) are always known."""
    rules = tuple(known)
    for code in codes:
        if code.startswith("FL0") or any(r.startswith(code) for r in rules):
            continue
        raise SelectionError(
            f"{where}: no rule `{code}`; run `flowlang rule` to list them "
            "(codes look like FL101, or a prefix like FL3 for a whole family)"
        )


@frozen
class Selection:
    """`select`: codes/prefixes to report (None: every rule); `ignore`: codes/prefixes to drop.
    The longest matching entry wins (`ignore` on a tie), so `select FL3` with `ignore FL301`
    reports FL302 but not FL301."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()

    def wants(self, code: str) -> bool:
        chosen = -1 if self.select is None else _longest(code, self.select)
        if self.select is not None and chosen < 0:
            return False
        dropped = _longest(code, self.ignore)
        return dropped < 0 or (self.select is not None and chosen > dropped)


def _longest(code: str, prefixes: tuple[str, ...]) -> int:
    """The length of the longest entry of `prefixes` that `code` starts with (-1: none)."""
    best = -1
    for p in prefixes:
        if code.startswith(p) and len(p) > best:
            best = len(p)
    return best
