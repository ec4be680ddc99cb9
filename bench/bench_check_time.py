"""`check` on a 20,000-line flow full of opening hours, spoken formats and outcome reprompts,
against a bare Lark parse of the same text: prints CPU seconds and the ratio (target < 2x).

"check" is what `flowlang check` does to a file in-process: parse to nodes, then every lint rule
(FL821-FL825 on the hours, FL820 on the formats, and all the others). The bare Lark parse uses
Lark's own lexer and tree with the same grammar (bench/bench_parse.py). Both are timed in CPU
seconds, best of several rounds taken in turns, because this machine's cores are shared.
Run: .venv/bin/python bench/bench_check_time.py
"""

from __future__ import annotations

from bench_parse import _BareIndenter, best_times
from lark import Lark

from flowlang.lint import lint
from flowlang.source import Source
from flowlang.syntax.parser import grammar_path, parse_source

TARGET_LINES = 20_000
HEAD = """\
voice "Telnyx.KokoroTTS.af"
language "en-US"
timezone "America/Chicago"

"""

# Opening hours for each department: lunch breaks, weekend lines, day lists and holidays.
HOURS = """\
hours desk{i}:
    mon-fri 8:00-12:00, 13:00-17:00
    sat, sun 9:00-12:00
    fri-mon 18:00-20:00
    closed 2026-11-26, 2026-12-24, 2026-12-25, 2027-01-01

"""

# A step that asks the hours, reads the clock, says formatted values and reprompts by outcome.
STEP = """\
step{i}:
    if open desk{i} and not open desk{back}:
        say "Desk {i} is open. It is {{now.time as time}} on {{now.date as date}}."
    elif now.weekday == "saturday" or now.hour >= 17:
        say "Desk {i} opens again tomorrow."
    else:
        log "desk {i} closed at {{now.time}}"
    gather digits 10 timeout 8s tries 3 into number{i}:
        say "Enter the ten digit number for desk {i}."
        reprompt invalid "That was not ten digits."
        reprompt timeout "We did not hear your number."
        on digits:
            say "You entered {{number{i} as phone}}, order {{number{i} as digits}}."
            say "The fee is {{fee as money}}."
        on invalid: say "Sorry."
        on timeout: say "Goodbye."
    set still_open = open desk{i}
    goto step{next}

"""


def generate(lines: int) -> str:
    """A valid flow of about `lines` lines: one hours block and one step per department."""
    parts = [HEAD, 'main:\n    answer\n    set fee = "12.50"\n    goto step0\n\n']
    count = sum(p.count("\n") for p in parts)
    i = 0
    while count < lines - 3:
        block = HOURS.format(i=i) + STEP.format(i=i, back=max(0, i - 1), next=i + 1)
        parts.append(block)
        count += block.count("\n")
        i += 1
    parts.append(f'step{i}:\n    say "Goodbye."\n    hangup\n')
    return "".join(parts)


def main() -> None:
    text = generate(TARGET_LINES)
    lines = text.count("\n")
    source = Source("bench.flow", text)
    findings = lint(parse_source(source), source)
    assert not [d for d in findings if d.is_error], [str(d.message) for d in findings[:3]]
    bare = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        postlex=_BareIndenter(),
        maybe_placeholders=False,
    )

    def check() -> None:
        lint(parse_source(source), source)

    ours, theirs = best_times(5, check, lambda: bare.parse(text))
    print(f"lines:                 {lines} ({text.count('hours desk')} hours blocks)")
    print(f"flowlang check:        {ours:.3f} s CPU  (parse to nodes and every lint rule)")
    print(f"bare Lark parse:       {theirs:.3f} s CPU  (Lark's lexer and tree, same grammar)")
    print(f"ratio check / bare:    {ours / theirs:.2f}x  (target < 2x)")


if __name__ == "__main__":
    main()
