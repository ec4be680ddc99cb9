"""A stand-in flow for server tests that must not depend on the parser: answer, then count."""

from __future__ import annotations

import hashlib
from typing import Any

from attrs import frozen

from flowlang.runtime.commands import Command
from flowlang.runtime.events import CallInfo, Event
from flowlang.runtime.outcome import End, Outcome
from flowlang.source import Source

TEXT = 'main:\n    answer\n    say "hello"\n'


@frozen
class StandInProgram:
    """Just what the server reads from a Program: its source, digest and clock's timezone."""

    source: Source
    digest: str
    timezone: str = "UTC"


def program(text: str = TEXT) -> Any:
    return StandInProgram(Source("standin.flow", text), hashlib.sha256(text.encode()).hexdigest())


class Counter:
    """Answers, then speaks once per `call.speak.ended` / `call.answered`; ends on hangup."""

    def __init__(self, prog: Any) -> None:
        self.tag = prog.digest[:6]

    def start(self, call: CallInfo) -> Outcome:
        body = {"command_id": f"{call.call_control_id}-0", "client_state": "MA=="}
        return Outcome({"n": 0, "tag": self.tag}, [Command("answer", body)], waiting="answer")

    def handle(self, state: dict[str, Any], event: Event) -> Outcome:
        if event.type == "call.hangup":
            return Outcome(state, end=End("hangup"))
        if event.type not in ("call.answered", "call.speak.ended"):
            return Outcome(state, ignored=True)
        n = state["n"] + 1
        ccid = event.payload["call_control_id"]
        body = {"command_id": f"{ccid}-{n}", "payload": f"{self.tag} {n}", "voice": "v"}
        return Outcome({**state, "n": n}, [Command("speak", body)], waiting="speak")
