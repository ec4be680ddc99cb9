"""Parse speed: lines per second of `flowlang.syntax.parser.parse` on a generated 20,000-line flow,
against a bare Lark parse of the same text with the same grammar (Lark's own tree, no nodes).

Run: .venv/bin/python bench/bench_parse.py   (prints figures; targets: >= 30,000 lines/s,
and at most 2x the bare Lark time)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lark import Lark
from lark.indenter import Indenter

from flowlang.syntax.indenter import FlowIndenter
from flowlang.syntax.lexer import FlowLexer
from flowlang.syntax.parser import grammar_path, parse
from flowlang.syntax.problems import Run

TARGET_LINES = 20_000

# One step in the style of the examples: prompts, a menu, handlers, a branch, comments and
# blank lines (about 4 tokens a line, like examples/*.flow).
STEP = """\
# Step {i}: the menu of department {i}.
step_{i}:
    say "Welcome to department {i}, {{caller}}."
    set visits = {i}

    gather digits 1 timeout 8s tries 3 into choice:
        say "For sales press 1."
        say "To hear this again press 2."
        reprompt "Sorry, I did not get that."
        on digits "1": goto step_{next}
        on digits "2", "#":
            log "repeat {{choice}}"
            goto step_{i}
        on invalid: say "That is not an option."
        on timeout: hangup

    # Regular callers go straight through.
    if visits > 3 or caller in ["+15550001111", "+15550002222"]:
        say "Thanks for calling again."
        transfer "+13125550001" timeout 30s
    else:
        say "Goodbye."
        hangup

"""


def generate(lines: int) -> str:
    """A valid flow of at least `lines` lines, settings first, steps chained by `goto`."""
    parts = ['voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\n']
    count = 3
    i = 0
    while count < lines:
        block = STEP.format(i=i, next=i + 1)
        parts.append(block)
        count += block.count("\n")
        i += 1
    parts.append(f"step_{i}:\n    hangup\n")
    return "".join(parts)


class _BareIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8


def best_times(rounds: int, *actions: Callable[[], object]) -> list[float]:
    """The best CPU time of each action over `rounds` rounds, the actions taking turns.

    CPU time, not wall time, because this machine's cores are shared and waiting for a core
    says nothing about the parser; taking turns spreads the other work on the machine evenly
    over the actions being compared.
    """
    best = [float("inf")] * len(actions)
    for _ in range(rounds):
        for i, action in enumerate(actions):
            start = time.process_time()
            action()
            best[i] = min(best[i], time.process_time() - start)
    return best


def main() -> None:
    text = generate(TARGET_LINES)
    lines = text.count("\n")
    bare = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        postlex=_BareIndenter(),
        maybe_placeholders=False,
    )
    # The same parse as flowlang's (its lexer and post-lexer) but building Lark's own tree:
    # the difference to `parse` is the cost of building nodes.
    indenter = FlowIndenter()
    indenter.run = Run(text_length=len(text), eof=(lines + 1, 1))
    trees = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer=FlowLexer,
        postlex=indenter,
        maybe_placeholders=False,
    )
    parse(text)  # build and cache the parser before timing
    ours, theirs, no_nodes = best_times(
        7, lambda: parse(text), lambda: bare.parse(text), lambda: trees.parse(text)
    )
    rate = "lines/s"
    print(f"lines:                     {lines}")
    print(f"flowlang parse:            {ours:.3f} s  ({lines / ours:,.0f} {rate}; target 30,000)")
    print(f"bare Lark parse:           {theirs:.3f} s  ({lines / theirs:,.0f} {rate}; Lark lexer)")
    print(f"ratio flowlang / bare:     {ours / theirs:.2f}x  (target <= 2x)")
    print(f"same lexers, no nodes:     {no_nodes:.3f} s  ({lines / no_nodes:,.0f} {rate})")
    print(f"ratio flowlang / no nodes: {ours / no_nodes:.2f}x  (the cost of building nodes)")


if __name__ == "__main__":
    main()
