"""Time `flowlang check` on a 40-file project whose flows include shared files; print seconds.

Target (issue 12): the whole folder checked in under 2 s. The baseline, measured in the same
run, is the same project with the shared steps copied into every flow instead of included:
the ratio says what reading the includes costs.
Run: .venv/bin/python bench/bench_includes.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOWLANG = [sys.executable, "-c", "from flowlang.cli import entry; entry()"]
FLOWS = 38  # with the two shared files: 40 files

HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n'

VERIFY = """
verify:
    set wrong_before = false
    goto ask_birth

ask_birth:
    gather digits 8 timeout 10s into birth:
        say "Please enter your date of birth as eight digits."
        on digits:
            if birth in ["01311980", "07041975"]:
                return
            if wrong_before:
                goto front_desk
            set wrong_before = true
            say "That date does not match our records."
            goto ask_birth
        on invalid: goto front_desk
        on timeout: goto front_desk
"""

DESK = """
front_desk:
    say "Connecting you to our front desk."
    transfer "+13125550140"

closed:
    say "We are closed now. Please call again tomorrow."
    hangup
"""

MENU = """
menu{i}:
    gather tries 2:
        say "To go on press 1, for the front desk press 0, to go back press 9."
        reprompt "Sorry, I did not get that."
        on digits "1":
            call verify
            say "Thank you. Part {i} for date of birth {{birth}}."
            goto menu{j}
        on digits "9": goto menu{back}
        on digits "0": goto front_desk
        on invalid: goto front_desk
        on timeout: goto closed
"""


def line_flow(number: int, menus: int, shared: str | None) -> str:
    body = "".join(
        MENU.format(i=i, j=min(i + 1, menus - 1), back=max(0, i - 1)) for i in range(menus)
    )
    main = f'\nmain:\n    answer\n    say "Thank you for calling line {number}."\n    goto menu0\n'
    if shared is None:
        return 'include "shared/verify.flow"\ninclude "shared/desk.flow"\n' + HEAD + main + body
    return HEAD + main + body + shared


def write_project(folder: Path, inline: bool, menus: int) -> int:
    """The project's files under `folder`; answers its number of lines."""
    shared = folder / "shared"
    shared.mkdir(parents=True)
    lines = 0
    texts: dict[Path, str] = {}
    if not inline:
        texts[shared / "verify.flow"] = HEAD + VERIFY
        texts[shared / "desk.flow"] = HEAD + DESK
    for number in range(FLOWS):
        texts[folder / f"line{number:02}.flow"] = line_flow(
            number, menus, (VERIFY + DESK) if inline else None
        )
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
        lines += text.count("\n")
    return lines


def time_check(folder: Path, runs: int = 3) -> tuple[float, float, int, str]:
    """The best wall-clock and CPU times of `flowlang check FOLDER`, its status and summary."""
    best = best_cpu = float("inf")
    status = 0
    summary = ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([*FLOWLANG, "check", str(folder)], capture_output=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_cpu = min(best_cpu, cpu)
        status = done.returncode
        summary = done.stdout.decode().strip().splitlines()[-1]
        if status not in (0, 1):
            sys.exit(f"flowlang check failed on {folder}:\n{done.stderr.decode()}")
    return best, best_cpu, status, summary


def main() -> int:
    menus = 8
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, inline in (("copied", True), ("included", False)):
            folder = Path(tmp) / name
            lines = write_project(folder, inline, menus)
            files = len(list(folder.rglob("*.flow")))
            seconds, cpu, status, summary = time_check(folder)
            results[name] = (seconds, cpu)
            print(
                f"{name:>8}: {files} files, {lines} lines  {seconds:6.3f} s wall  "
                f"{cpu:6.3f} s CPU  (exit {status}: {summary})"
            )
    wall = results["included"][0] / results["copied"][0]
    cpu_ratio = results["included"][1] / results["copied"][1]
    print(f"ratio included/copied: {wall:.2f} wall, {cpu_ratio:.2f} CPU")
    print("target: the 40-file project with includes checked in under 2 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
