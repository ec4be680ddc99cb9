"""Time `flowlang check` on generated 20,000- and 40,000-line flows; print seconds and the ratio.

Targets (issue 3): 20,000 lines under 2 s, and 40,000 lines under 2.3 times the 20,000-line
time (linear growth). Also times a small flow, whose check should start in under 0.3 s.
Run: .venv/bin/python bench/bench_check.py
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

STEP = """\
step{i}:
    say "You are in part {i}, {{name}}."
    set seen{i} = false
    gather digits 1 tries 2 timeout 5s into choice{i}:
        say "Press 1 to go on, 2 to hear this again, or 9 to go back."
        reprompt "Sorry, I did not get that."
        on digits "1":
            set seen{i} = true
            log "Part {i} chosen by {{caller}}"
        on digits "2": goto step{i}
        on digits "9": goto step{back}
        on invalid: say "That is not an option."
        on timeout: say "We did not hear anything."
    if choice{i} == "1" and seen{i} == true:
        say "Moving on from part {i}."
    elif choice{i} == "2":
        log "Repeated {i}"
    else:
        log "Nothing in part {i}"
    goto step{j}

"""
STEP_LINES = STEP.count("\n")
# Each part can go back to the one before ("press 9"): the whole flow is one big loop, the
# hardest shape for a dataflow analysis that is not careful to stay linear.


def generate(lines: int) -> str:
    head = (
        'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\n'
        'main:\n    answer\n    set name = "friend"\n    goto step0\n\n'
    )
    count = max(1, (lines - head.count("\n") - 3) // STEP_LINES)
    body = "".join(STEP.format(i=i, j=i + 1, back=max(0, i - 1)) for i in range(count))
    tail = f'step{count}:\n    say "Goodbye, {{name}}."\n    hangup\n'
    return head + body + tail


def time_check(path: Path, runs: int = 3) -> tuple[float, float, int]:
    """The best wall-clock and CPU (user + system) times of `flowlang check PATH` over `runs`,
    and its exit status. CPU time is what to compare on a busy machine."""
    best = best_cpu = float("inf")
    status = 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([*FLOWLANG, "check", str(path)], capture_output=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_cpu = min(best_cpu, cpu)
        status = done.returncode
        if status not in (0, 1):
            sys.exit(f"flowlang check failed on {path}:\n{done.stderr.decode()}")
    return best, best_cpu, status


def time_phases(text: str) -> tuple[float, float]:
    """CPU seconds to parse, then to lint, in this process (as `flowlang check` runs them)."""
    import gc

    from flowlang.lint import lint
    from flowlang.source import Source
    from flowlang.syntax.parser import parse_source

    gc.disable()
    source = Source("bench.flow", text)
    start = time.process_time()
    flow = parse_source(source)
    parsed = time.process_time()
    lint(flow, source)
    done = time.process_time()
    gc.enable()
    return parsed - start, done - parsed


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sizes = {"small": 10, "20k": 20_000, "40k": 40_000}
        times: dict[str, float] = {}
        cpu_times: dict[str, float] = {}
        for name, lines in sizes.items():
            path = folder / f"{name}.flow"
            text = generate(lines)
            path.write_text(text, encoding="utf-8")
            seconds, cpu, status = time_check(path)
            times[name] = seconds
            cpu_times[name] = cpu
            parse, lint = time_phases(text)
            print(
                f"{name:>5}: {text.count(chr(10)):>6} lines  {seconds:6.3f} s wall  "
                f"{cpu:6.3f} s CPU  (exit {status}; in-process CPU: parse {parse:.3f} s, "
                f"lint {lint:.3f} s)"
            )
        ratio = times["40k"] / times["20k"]
        cpu_ratio = cpu_times["40k"] / cpu_times["20k"]
        print(f"ratio 40k/20k: {ratio:.2f} wall, {cpu_ratio:.2f} CPU (target < 2.3)")
        print("targets: 20k under 2 s; a small flow under 0.3 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
