"""FL503: a field read from a value that has none is reported exactly when every value the
variable can hold is plain (or a recording without that field), and such a read is always
empty on a call."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from flowlang.lint import check_source
from flowlang.runtime.expressions import lookup
from flowlang.source import Source

# How the variable `v` gets a value, the line(s) that do it, and the values it may then hold
# on a call (None: anything a backend may answer).
ASSIGNMENTS: dict[str, tuple[str, st.SearchStrategy[Any] | None]] = {
    "gather": (
        "    gather digits 1..4 tries 1 into v:\n"
        '        say "Enter it."\n'
        "        on digits: log \"{v}\"\n"
        "        on timeout: hangup\n"
        "        on invalid: hangup\n",
        st.text("0123456789*#", max_size=4),
    ),
    "text": ('    set v = "a {caller} b"\n', st.text()),
    "number": ("    set v = 7 + 1\n", st.integers()),
    "yes_no": ("    set v = caller == called\n", st.booleans()),
    "caller": ("    set v = caller\n", st.text()),
    "recording": (
        "    record into v max 1m:\n        on saved: log \"saved\"\n",
        st.fixed_dictionaries({"url": st.text(), "duration": st.integers(0, 99)}),
    ),
    "fetch": (
        '    fetch "https://api.example.com/x" into v:\n        on error: hangup\n',
        None,
    ),
    # Copies: `v` holds what the variable it copies holds.
    "copy_of_entry": (
        "    gather digits 1..4 tries 1 into w:\n"
        '        say "Enter it."\n'
        "        on digits: log \"{w}\"\n"
        "        on timeout: hangup\n"
        "        on invalid: hangup\n"
        "    set v = w\n",
        st.text("0123456789*#", max_size=4),
    ),
    "copy_of_answer": (
        '    fetch "https://api.example.com/y" into u:\n        on error: hangup\n'
        "    set v = u\n",
        None,
    ),
}
FIELDS = ["url", "duration", "count", "first", "name", "length"]


def flow(kinds: list[str], field: str) -> str:
    lines = "".join(ASSIGNMENTS[k][0] for k in kinds)
    return (
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n'
        f'{lines}    say "It is {{v.{field}}}."\n    hangup\n'
    )


@given(st.lists(st.sampled_from(sorted(ASSIGNMENTS)), min_size=1, max_size=3),
       st.sampled_from(FIELDS), st.data())
def test_reported_exactly_when_every_value_lacks_the_field(
    kinds: list[str], field: str, data: st.DataObject
) -> None:
    text = flow(kinds, field)
    found = [d for d in check_source(Source("f.flow", text)) if d.code == "FL503"]
    said = text.splitlines().index(f'    say "It is {{v.{field}}}."') + 1
    assert all(d.span is not None and d.span.line == said for d in found)
    plain = {"gather", "text", "number", "yes_no", "caller", "copy_of_entry"}
    if set(kinds) <= plain:
        expected = True
    elif set(kinds) == {"recording"}:
        expected = field not in ("url", "duration")
    else:
        expected = False
    assert bool(found) == expected, (text, found)
    if found:
        # Sound: whatever value each assignment gives `v` on a call, the field reads as unset.
        for kind in kinds:
            values = ASSIGNMENTS[kind][1]
            assert values is not None
            value = data.draw(values)
            assert lookup({"v": value}, ("v", field)) == (False, "")
