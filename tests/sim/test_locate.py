"""Which `.flow` line sent each command: found fast on long flows, and the same lines as the
plain search (every operation of the program tried for every command) found before."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from flowlang.offline import conversation as conv
from flowlang.offline.conversation import conversation
from flowlang.offline.scenario.run import run_scenario
from flowlang.offline.scenario.suite import load
from flowlang.offline.simulator import simulate
from flowlang.syntax.nodes import Interp, Str
from tests.sim.helpers import EXAMPLES, chain, program


def test_a_long_chain_tries_few_operations_per_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # Work counted, not timed: each command is matched against the operations of its own step,
    # not against every statement of the program (which made 2,000 steps take 20 seconds).
    compiled = program(chain(400))
    transcript = simulate(compiled, [])
    assert transcript.end.reason == "hangup"
    tried = 0
    fits = conv._fits

    def counting(*args: Any) -> bool:
        nonlocal tried
        tried += 1
        return fits(*args)

    monkeypatch.setattr(conv, "_fits", counting)
    lines = conversation(transcript, compiled)
    says = [line for line in lines if line.kind == "say"]
    assert len(says) == 400
    assert [line.flow_line for line in says] == [6 + 4 * i + 1 for i in range(400)]
    assert tried <= 3 * len(lines)


# The search as it was: every operation tried, a fresh pattern each time. Kept here to show the
# indexed search finds the very same lines.
def _plain_matches(text: Str, actual: str, ending: bool = False) -> bool:
    pattern = "".join(".*?" if isinstance(p, Interp) else re.escape(p) for p in text.parts)
    if ending:
        return re.search(f"(?:{pattern})\\Z", actual, re.DOTALL) is not None
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def _plain_locate(
    program: Any, step: str | None, action: str, body: dict[str, Any], after: int
) -> int | None:
    if program is None:
        return None
    ops = [op for block in program.blocks for op in block.ops]
    candidates = [op for op in ops if conv._fits(op, action, body)]
    if not candidates and program.translations:
        payload = str(body.get("payload", ""))
        original = body
        for _, entries in program.translations:
            found = next((t for t, tr in entries if _plain_matches(tr, payload, True)), None)
            if found is not None:
                original = {**body, "payload": found}
                break
        candidates = [op for op in ops if conv._fits(op, action, original)]
    if not candidates:
        return None
    starts = sorted(int(s.line) for s in program.steps)
    info = program.step(step) if step else None
    low, high = (0, 1 << 30)
    if info is not None:
        later_starts = [line for line in starts if line > info.line]
        low, high = int(info.line), later_starts[0] if later_starts else 1 << 30
    inside = sorted((op for op in candidates if low <= op.line < high), key=lambda op: op.line)
    later = [op for op in inside if op.line >= after]
    chosen = (later or inside or candidates)[0]
    if action == "playback_start" and type(chosen).__name__ == "QueueOp":
        return int(chosen.music.span.line)
    return int(chosen.line)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.scenarios")), ids=lambda p: p.stem)
def test_the_lines_found_are_the_same_as_the_plain_search(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load(path)
    assert loaded.ok and loaded.file is not None
    transcripts = [
        run_scenario(loaded.program, s, loaded.file).transcript for s in loaded.file.scenarios
    ]
    found = [conversation(t, loaded.program) for t in transcripts]
    monkeypatch.setattr(conv, "_locate", _plain_locate)
    assert found == [conversation(t, loaded.program) for t in transcripts]


def test_each_fetch_is_shown_at_its_own_line() -> None:
    # The second of two fetches with no command between them was shown at the first's line:
    # a fetch request is found by its method and URL, as a command is by its body.
    compiled = program(
        "main:\n"
        '    fetch "https://api.acme.com/orders/{caller}" into order\n'
        '    log "asked"\n'
        '    fetch "https://api.acme.com/callbacks" method "POST" into booked\n'
        '    fetch "https://api.acme.com/status" into status\n'
        "    hangup\n"
    )
    transcript = simulate(compiled, ['fetch={"id": 1}', 'fetch={"ok": true}', "fetch-error"])
    fetches = [line for line in conversation(transcript, compiled) if line.kind == "fetch"]
    assert [(line.text.split()[1], line.flow_line) for line in fetches] == [
        ("GET", 2), ("POST", 4), ("GET", 5)
    ]


def test_a_say_with_the_words_of_a_reprompt_is_shown_at_its_own_line() -> None:
    # A gather that speaks its prompt says its reprompt inside the gather command: a `speak`
    # of the same words is the handler's `say`, not the reprompt (which only a gather with a
    # `play` prompt, or none, sends as a speak of its own).
    compiled = program(
        'voice "Telnyx.KokoroTTS.af"\n'
        "main:\n"
        "    answer\n"
        "    gather digits 1:\n"
        '        say "Press 1."\n'
        '        reprompt invalid "Nope."\n'
        '        on digits "1": say "Yes."\n'
        "        on digits:\n"
        '            say "Nope."\n'
        "            hangup\n"
        "        on invalid: hangup\n"
        "        on timeout: hangup\n"
    )
    transcript = simulate(compiled, ["7"])
    says = [line for line in conversation(transcript, compiled) if line.kind == "say"]
    assert [(line.text, line.flow_line) for line in says] == [('say "Nope."', 9)]


def test_each_command_is_shown_at_the_statement_that_sent_it() -> None:
    # The interpreter says which statement sent each command: a `hangup` after the gather is
    # not taken for the one in `on invalid:`, which comes first below the handler that ran.
    compiled = program(
        'voice "Telnyx.KokoroTTS.af"\n'
        "main:\n"
        "    answer\n"
        "    gather digits 4 into pin:\n"
        '        say "Enter your PIN."\n'
        '        on digits: say "Welcome."\n'
        "        on invalid:\n"
        '            say "Goodbye."\n'
        "            hangup\n"
        "        on timeout: hangup\n"
        "    hangup\n"
    )
    transcript = simulate(compiled, ["4321"])
    lines = [(line.kind, line.flow_line) for line in conversation(transcript, compiled)]
    assert lines[-3:] == [("say", 6), ("hangup", 11), ("end", None)]


def test_the_try_after_try_again_is_shown_at_its_gather() -> None:
    compiled = program(
        'voice "Telnyx.KokoroTTS.af"\n'
        "main:\n"
        "    answer\n"
        "    gather digits 4 into pin:\n"
        '        say "Enter your PIN."\n'
        '        reprompt invalid "Wrong PIN."\n'
        "        on digits:\n"
        '            if pin != "4321":\n'
        "                try again\n"
        "            hangup\n"
        "        on invalid: hangup\n"
        "        on timeout: hangup\n"
    )
    transcript = simulate(compiled, ["1111", "4321"])
    asks = [line for line in conversation(transcript, compiled) if line.kind == "ask"]
    assert [(line.value, line.flow_line) for line in asks] == [
        ("Enter your PIN.", 4), ("Wrong PIN. Enter your PIN.", 4)
    ]


def test_a_text_message_keeps_every_later_command_at_its_own_line() -> None:
    # An `sms` is not a call command, but it is one of the outcome's commands: its line must
    # be noted too, or every command after it is shown one statement off.
    compiled = program(
        'voice "Telnyx.KokoroTTS.af"\n'
        "main:\n"
        "    answer\n"
        '    sms "+13125550100" "Hi"\n'
        '    say "Sent."\n'
        "    hangup\n"
    )
    transcript = simulate(compiled, [])
    lines = [(line.kind, line.flow_line) for line in conversation(transcript, compiled)]
    assert lines[2:5] == [("sms", 4), ("say", 5), ("hangup", 6)]
