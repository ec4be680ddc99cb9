"""Time and peak memory of `flowlang check` and `fmt` on inputs at the edges: 100,000 steps, a
5 MB string, a 1 MB line, blocks nested 500 deep. Each runs in a fresh process; the baseline
is a bare Lark parse of the same text in a fresh process (Lark's own lexer, tree and indenter).

Run: .venv/bin/python bench/bench_limits.py [--quick]   (prints figures and ratios; --quick
uses 10,000 steps instead of 100,000)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\nmain:\n    answer\n'

# What each measured process runs; argv[1] is the .flow file.
BARE_LARK = """
import sys
from lark import Lark
from lark.indenter import Indenter
from flowlang.syntax.parser import grammar_path

class Bare(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = []
    CLOSE_PAREN_types = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

lark = Lark(grammar_path().read_text(), parser="lalr", lexer="basic", postlex=Bare())
try:
    lark.parse(open(sys.argv[1], encoding="utf-8").read())
except Exception as exc:  # the deep file: Lark has no limit, report what happened
    print(type(exc).__name__)
"""
FLOWLANG = "import sys; from flowlang.cli import main; main(sys.argv[2:] + [sys.argv[1]])"


def steps(count: int) -> str:
    body = "".join(f's{i}:\n    say "Step {i}."\n    goto s{i + 1}\n\n' for i in range(count))
    return HEAD + "    goto s0\n\n" + body + f"s{count}:\n    hangup\n"


def cases(quick: bool) -> dict[str, str]:
    deep = [HEAD.rstrip("\n")]
    deep += ["    " * d + 'if caller == "x":' for d in range(1, 501)]
    deep.append("    " * 501 + "hangup")
    count = 10_000 if quick else 100_000
    return {
        f"{count:,} steps": steps(count),
        "a 5 MB string": HEAD + '    say "' + "a" * 5_000_000 + '"\n',
        "a 1 MB line": HEAD + '    log "' + "ab{caller} " * 95_000 + '"\n',
        "blocks 500 deep": "\n".join(deep) + "\n",
    }


def measure(code: str, *args: str) -> tuple[float, float]:
    """CPU seconds and peak memory (MB) of one fresh Python process running `code`."""
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    quick = "--quick" in sys.argv
    print(
        f"{'input':<18} {'command':<14} {'CPU s':>8} {'peak MB':>9} {'x Lark time':>12} "
        f"{'x Lark memory':>14}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name, text in cases(quick).items():
            path = Path(folder) / "case.flow"
            path.write_text(text, encoding="utf-8")
            base_time, base_memory = measure(BARE_LARK, str(path))
            print(f"{name:<18} {'bare Lark':<14} {base_time:>8.2f} {base_memory:>9.0f}")
            for command in (["check", "--no-config"], ["fmt", "--check"]):
                spent, memory = measure(FLOWLANG, str(path), *command)
                print(
                    f"{'':<18} {command[0]:<14} {spent:>8.2f} {memory:>9.0f} "
                    f"{spent / base_time:>11.2f}x {memory / base_memory:>13.2f}x"
                )


if __name__ == "__main__":
    main()
