"""A simulated call as the lines of a conversation a person reads, each with its `.flow` line."""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from attrs import frozen

from flowlang.offline.phone import (
    INPUTS,
    AiResult,
    ConversationEnds,
    Dequeued,
    Detected,
    FetchAnswer,
    Greeting,
    HangUp,
    KeyDuringAi,
    LegResult,
    Press,
    Recorded,
    RecordingLost,
    Silence,
)
from flowlang.offline.simulator import Entered, Heard, Logged, Note, Requested, Sent, Transcript
from flowlang.runtime.commands import Command
from flowlang.runtime.outcome import End
from flowlang.syntax.nodes import Interp, Str

# The kinds of line in which the caller hears speech (`expect say` looks in all of them).
SPOKEN = ("say", "ask", "ai", "assistant")
END_WORDS = {
    "hangup": "the call was hung up",
    "transfer": "the caller was transferred",
    "completed": "the flow ran to its end",
    "waiting": "the flow is still waiting for the caller (no more inputs)",
    "error": "the flow failed",
}


@frozen
class Line:
    """One thing that happened: `kind` (step, answer, say, ask, play, ai, assistant, message,
    stop, transfer, hangup, fetch, record, sms, queue, log, warning, note, caller, end), `text` for
    people, `value` what expectations compare with (the spoken text, the number, the step
    name), the `.flow` line when known, and `turn`: how many caller inputs came before it."""

    kind: str
    text: str
    value: str = ""
    flow_line: int | None = None
    turn: int = 0


def conversation(transcript: Transcript, program: Any = None) -> list[Line]:
    """The transcript's lines, in order, ending with an `end` line."""
    lines: list[Line] = []
    turn = 0
    # Statements run top to bottom within a step, so the next command most likely comes from
    # a line after the previous one (a `goto` starts its step again).
    after = 0
    # After a run off the end or an error the interpreter hangs up by itself: no line did it.
    automatic_hangup = transcript.end.reason in ("completed", "error")
    for entry in transcript.entries:
        if isinstance(entry, Entered):
            where = _step_line(program, entry.name)
            after = where or 0
            lines.append(Line("step", f"step {entry.name}", entry.name, where, turn))
        elif isinstance(entry, Sent):
            automatic = automatic_hangup and entry.command.action == "hangup"
            line = _command_line(entry, None if automatic else program, turn, after)
            if line is not None:
                after = line.flow_line or after
                lines.append(line)
        elif isinstance(entry, Requested):
            fetch = entry.fetch
            # The interpreter says which `fetch` made each request.
            where = entry.line if program is not None else None
            after = where or after
            text = f"fetch {fetch.method} {fetch.url}"
            lines.append(Line("fetch", text, fetch.url, where, turn))
        elif isinstance(entry, Heard):
            turn = entry.number
            lines.append(Line("caller", caller_text(entry), "", None, turn))
        elif isinstance(entry, Logged):
            kind = "warning" if entry.line.level == "warning" else "log"
            lines.append(Line(kind, f"{kind}: {entry.line.text}", entry.line.text,
                              entry.line.line, turn))
        elif isinstance(entry, Note):
            lines.append(Line("note", f"note: {entry.text}", entry.text, None, turn))
    end = transcript.end
    text = END_WORDS.get(end.reason, end.reason)
    if end.reason == "error" and end.message:
        text = f"{text}: {end.message}"
    lines.append(Line("end", f"end: {text}", end.reason, end.line, turn))
    return lines


def caller_text(heard: Heard) -> str:
    """What the caller did, as the transcript says it ("caller presses 1")."""
    action = heard.action
    if isinstance(action, Press):
        said = f"caller presses {action.keys}"
        if heard.result == "invalid":
            return f"{said} (not a valid entry)"
        return said
    if isinstance(action, Silence):
        return "caller stays silent (timeout)"
    if isinstance(action, HangUp):
        return "caller hangs up"
    if isinstance(action, AiResult):
        shown = json.dumps(action.result, ensure_ascii=False)
        return f"AI gather ends {'valid' if action.valid else 'invalid'}: {shown}"
    if isinstance(action, KeyDuringAi):
        return f"caller presses key {action.key}"
    if isinstance(action, Detected):
        return f"answering-machine detection: {action.result.replace('_', ' ')}"
    if isinstance(action, Greeting):
        return "the machine's greeting ends with a beep" if action.beep else (
            "the machine's greeting ends without a beep"
        )
    if isinstance(action, Recorded):
        if not action.saved:
            return "the recording fails"
        return f"the recording is saved ({action.seconds} seconds)"
    if isinstance(action, RecordingLost):
        return "the recording never arrives (the server stops waiting for it)"
    if isinstance(action, LegResult):
        return _LEG_WORDS[action.result]
    if isinstance(action, Dequeued):
        return "an agent takes the call" if action.reason == "bridged" else "the queue times out"
    if isinstance(action, FetchAnswer):
        if action.result is None:
            return "the backend fails"
        return f"the backend answers {json.dumps(action.result, ensure_ascii=False)}"
    assert isinstance(action, ConversationEnds)
    return "the AI conversation ends"


_LEG_WORDS = {
    "answered": "the transferred-to number answers",
    "no_answer": "the transferred-to number does not answer",
    "busy": "the transferred-to number is busy",
    "failed": "the transfer fails",
}


def command_text(command: Command) -> str:
    """A command as the transcript says it (`say "Hello."`, `ask "..." (1 key: 1, 2)`)."""
    line = _command_line(Sent(command), None, 0, 0)
    return line.text if line is not None else command.action


def _command_line(sent: Sent, program: Any, turn: int, after: int) -> Line | None:
    action, body = sent.command.action, sent.command.body
    if sent.line is not None and program is not None:
        # The interpreter said which statement sent it. Only the hold music is shown at a line
        # of its own, inside its `queue` block.
        where: int | None = sent.line
        if action == "playback_start":
            where = _locate(program, sent.step, action, body, sent.line) or sent.line
    else:
        where = _locate(program, sent.step, action, body, after)
    if sent.command.is_message:
        to, text = str(body.get("to", "")), str(body.get("text", ""))
        return Line("sms", f'text {to}: "{text}"', text, where, turn)
    if action == "record_start":
        return Line("record", "record the caller", "", where, turn)
    if action == "record_stop":
        return Line("stop", "stop recording", "", where, turn)
    if action == "enqueue":
        name = str(body.get("queue_name", ""))
        return Line("queue", f"queue the call in {name}", name, where, turn)
    if action == "playback_stop":
        return Line("stop", "stop the hold music", "", where, turn)
    if action == "answer":
        return Line("answer", "answer the call", "", where, turn)
    if action == "speak":
        text = str(body.get("payload", ""))
        return Line("say", f'say "{text}"', text, where, turn)
    if action == "playback_start":
        audio = str(body.get("audio_url") or body.get("media_name") or "")
        return Line("play", f'play "{audio}"', audio, where, turn)
    if action in ("gather", "gather_using_speak", "gather_using_audio"):
        keys = keys_wanted(body)
        if action == "gather_using_speak":
            text = str(body.get("payload", ""))
            return Line("ask", f'ask "{text}" ({keys})', text, where, turn)
        if action == "gather_using_audio":
            audio = str(body.get("audio_url") or body.get("media_name") or "")
            return Line("ask", f'ask with "{audio}" ({keys})', audio, where, turn)
        return Line("ask", f"listen for keys ({keys})", "", where, turn)
    if action == "gather_using_ai":
        greeting = str(body.get("greeting", ""))
        fields = ", ".join(body.get("parameters", {}).get("properties", {}))
        said = f' "{greeting}"' if greeting else ""
        return Line("ai", f"AI gather{said} (asks for {fields})", greeting, where, turn)
    if action == "ai_assistant_start":
        assistant = body.get("assistant")
        assistant = assistant if isinstance(assistant, dict) else {}
        greeting = str(assistant.get("greeting", ""))
        # Without a greeting the caller hears nothing from flowlang: say which assistant starts.
        ident = assistant.get("id")
        said = f'"{greeting}"' if greeting else (f"{ident} starts" if ident else "starts")
        return Line("assistant", f"AI assistant {said}", greeting, where, turn)
    if action == "ai_assistant_add_messages":
        contents = "; ".join(str(m.get("content", "")) for m in body.get("messages", []))
        return Line("message", f"message to the assistant: {contents}", contents, where, turn)
    if action in ("gather_stop", "ai_assistant_stop"):
        return Line("stop", "stop the AI", "", where, turn)
    if action == "transfer":
        to = str(body.get("to", ""))
        return Line("transfer", f"transfer to {to}", to, where, turn)
    if action == "hangup":
        return Line("hangup", "hang up", "", where, turn)
    return Line("command", action, "", where, turn)


def keys_wanted(body: dict[str, Any]) -> str:
    """The keys a gather command's `body` asks for ("1 key: 0, 1, 2", "4 keys, ending with #")."""
    low, high = body.get("minimum_digits"), body.get("maximum_digits")
    if low is not None and high is not None and low == high:
        count = f"{low} key{'s' if low != 1 else ''}"
    elif low is not None and high is not None:
        count = f"{low} to {high} keys"
    else:
        count = "keys"
    valid = body.get("valid_digits")
    if valid:
        count += f": {', '.join(valid)}"
    terminator = body.get("terminating_digit")
    if terminator:
        count += f", ending with {terminator}"
    return count


# ---------------------------------------------------------------------------------------------
# Which `.flow` line sent a command: found in the compiled program by what the command says.


def _step_line(program: Any, name: str) -> int | None:
    if program is None:
        return None
    step = program.step(name)
    return None if step is None else int(step.line)


def _locate(
    program: Any, step: str | None, action: str, body: dict[str, Any], after: int
) -> int | None:
    if program is None:
        return None
    index = _index(program)
    chosen = _choose(index, step, action, body, after)
    if chosen is None and program.translations:
        # Said in another of the flow's languages: find the text by its translation.
        chosen = _choose(index, step, action, _untranslated(program, body), after)
    if chosen is None:
        return None
    if action == "playback_start" and type(chosen).__name__ == "QueueOp":
        # The hold music is written on its own line inside the `queue` block.
        return int(chosen.music.span.line)
    return int(chosen.line)


def _choose(
    index: _Index, step: str | None, action: str, body: dict[str, Any], after: int
) -> Any:
    """The operation that sent the command: the first that fits at or after line `after` in
    the command's step, else the first that fits in the step, else the first in the program."""
    kinds = _KINDS.get(action)
    if kinds is None and action.startswith("ai_assistant"):
        kinds = ("AssistantOp",)
    if kinds is None:
        return None
    ops, lines = index.by_kind[kinds]
    low, high = index.step_range(step)
    first = bisect_left(lines, low)
    stop = bisect_left(lines, high)
    start = min(max(first, bisect_left(lines, after)), stop)
    for position in (*range(start, stop), *range(first, start)):
        op = ops[position]
        if _fits(op, action, body):
            return op
    # Nothing in the step fits: the first operation in the program that does.
    return next((op for op in index.in_order[kinds] if _fits(op, action, body)), None)


def _untranslated(program: Any, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with its payload put back into the flow's own language, where a catalog has it."""
    payload = str(body.get("payload", ""))
    for _, entries in program.translations:
        for text, translation in entries:
            if _matches(translation, payload, ending=True):
                return {**body, "payload": text}
    return body


# The kinds of operation that can send each command (`_fits` says which one did).
_GATHERS = ("GatherOp",)
_KINDS: dict[str, tuple[str, ...]] = {
    "answer": ("AnswerOp",),
    "hangup": ("HangupOp",),
    "speak": ("SayOp", "GatherOp"),
    "playback_start": ("QueueOp", "PlayOp"),
    "gather": _GATHERS,
    "gather_using_speak": _GATHERS,
    "gather_using_audio": _GATHERS,
    "gather_using_ai": ("AiGatherOp",),
    "gather_stop": ("AiGatherOp",),
    "ai_assistant_start": ("AssistantOp",),
    "ai_assistant_stop": ("AssistantOp",),
    "ai_assistant_add_messages": ("AssistantOp",),
    "transfer": ("TransferOp",),
    "message": ("SmsOp",),
    "record_start": ("RecordOp",),
    "record_stop": ("RecordOp",),
    "enqueue": ("QueueOp",),
    "playback_stop": ("QueueOp",),
}


class _Index:
    """A program's operations looked up fast: by the kinds that can send a command, in program
    order and sorted by line (a stable sort: same-line operations stay in program order), and
    each step's range of lines. Worked out once per program (programs are immutable)."""

    def __init__(self, program: Any) -> None:
        self.program = program
        every = [op for block in program.blocks for op in block.ops]
        self.in_order: dict[tuple[str, ...], tuple[Any, ...]] = {}
        self.by_kind: dict[tuple[str, ...], tuple[tuple[Any, ...], list[int]]] = {}
        for kinds in set(_KINDS.values()):
            ops = tuple(op for op in every if type(op).__name__ in kinds)
            by_line = tuple(sorted(ops, key=lambda op: int(op.line)))
            self.in_order[kinds] = ops
            self.by_kind[kinds] = (by_line, [int(op.line) for op in by_line])
        self.starts = sorted(int(s.line) for s in program.steps)
        self.ranges: dict[str | None, tuple[int, int]] = {}

    def step_range(self, step: str | None) -> tuple[int, int]:
        """The lines of `step`, from its own up to the next step's (all lines when unknown)."""
        known = self.ranges.get(step)
        if known is None:
            info = self.program.step(step) if step else None
            if info is None:
                known = (0, 1 << 30)
            else:
                later = bisect_right(self.starts, int(info.line))
                end = self.starts[later] if later < len(self.starts) else 1 << 30
                known = (int(info.line), end)
            self.ranges[step] = known
        return known


def _index(program: Any) -> _Index:
    key = id(program)
    cached = _INDEXES.get(key)
    if cached is None or cached.program is not program:
        cached = _Index(program)
        if len(_INDEXES) > 64:
            _INDEXES.clear()
        _INDEXES[key] = cached
    return cached


_INDEXES: dict[int, _Index] = {}


def _fits(op: Any, action: str, body: dict[str, Any]) -> bool:
    kind = type(op).__name__
    if action == "answer":
        return kind == "AnswerOp"
    if action == "hangup":
        return kind == "HangupOp"
    if action == "speak":
        payload = str(body.get("payload", ""))
        if kind == "SayOp":
            return _matches(op.text, payload)
        if kind != "GatherOp" or op.action == "gather_using_speak":
            # A gather that speaks its prompt says its reprompt in the same command: only one
            # with a `play` prompt, or none, sends it as a `speak` of its own (LANGUAGE.md 3).
            return False
        written = (op.reprompt, op.reprompt_invalid, op.reprompt_timeout)
        return any(r is not None and _matches(r, payload) for r in written)
    if action == "playback_start":
        if kind == "QueueOp" and op.music is not None:
            return _matches(op.music, _audio(body))
        return kind == "PlayOp" and _matches(op.source, _audio(body))
    if action in ("gather", "gather_using_speak", "gather_using_audio"):
        if kind != "GatherOp" or op.action != action:
            return False
        if action == "gather_using_speak" and op.prompt:
            return _matches(op.prompt[-1], str(body.get("payload", "")), ending=True)
        if action == "gather_using_audio" and op.audio is not None:
            return _matches(op.audio, _audio(body))
        return True
    if action in ("gather_using_ai", "gather_stop"):
        return kind == "AiGatherOp"
    if action.startswith("ai_assistant"):
        return kind == "AssistantOp"
    if action == "transfer":
        return kind == "TransferOp" and _matches(op.to, str(body.get("to", "")))
    if action == "message":
        return kind == "SmsOp" and _matches(op.text, str(body.get("text", "")))
    if action in ("record_start", "record_stop"):
        return kind == "RecordOp"
    if action in ("enqueue", "playback_stop"):
        return kind == "QueueOp"
    return False


def _audio(body: dict[str, Any]) -> str:
    return str(body.get("audio_url") or body.get("media_name") or "")


def _matches(text: Str, actual: str, ending: bool = False) -> bool:
    """Whether `actual` is what `text` gives once interpolated (or ends with it: `ending`)."""
    shape = tuple(None if isinstance(p, Interp) else p for p in text.parts)
    return _pattern(shape, ending).search(actual) is not None


@lru_cache(maxsize=8192)
def _pattern(shape: tuple[str | None, ...], ending: bool) -> re.Pattern[str]:
    """The compiled pattern of a string's `shape` (its literal parts, None for each `{...}`):
    made once per shape, as a flow's strings are matched against every command it sends."""
    pattern = "(?:" + "".join(".*?" if p is None else re.escape(p) for p in shape) + ")\\Z"
    return re.compile(pattern if ending else "\\A" + pattern, re.DOTALL)


# ---------------------------------------------------------------------------------------------
# The readable transcript of `flowlang simulate`


def show(line: Line, source: Any = None) -> str:
    """One conversation line as the simulate transcript prints it (a line of an included file
    named with its file, when the flow's `source` is given)."""
    if line.kind == "step":
        where = f" ({_where(line.flow_line, source)})" if line.flow_line else ""
        return f"step {line.value}{where}"
    if line.kind == "caller":
        return f"  >>>       {line.text}"
    if line.kind == "end":
        return ""
    where = _where(line.flow_line, source) if line.flow_line else ""
    return f"  {where:<9} {line.text}"


def _where(number: int | None, source: Any) -> str:
    if number is None or source is None or not source.included:
        return f"line {number}"
    part, local = source.locate(number)
    return f"line {local}" if part is source else f"{part.name} line {local}"


def ending(lines: list[Line], end: End, source: Any = None) -> str:
    """The closing sentence of a transcript that ended with `end`."""
    if end.reason == "transfer":
        # Ended by the last transfer answered, or by an agent taking the call from a queue.
        last = next((line for line in reversed(lines) if line.kind in ("transfer", "queue")), None)
        if last is not None and last.kind == "queue":
            return f"The call ended: an agent in {last.value} took the call."
        to = f" to {last.value}" if last is not None else ""
        return f"The call ended: the caller was transferred{to}."
    if end.reason == "hangup":
        by_caller = any(line.text == "caller hangs up" for line in lines)
        return "The call ended: " + ("the caller hung up." if by_caller else "the flow hung up.")
    if end.reason == "error":
        where = f" ({_where(end.line, source)})" if end.line else ""
        return f"The call ended with an error{where}: {end.message or 'the flow failed'}"
    if end.reason == "completed":
        return "The call ended: the flow ran to its end."
    return still_waiting(None) + "."


def counted(lines: Iterable[tuple[str, bool]]) -> list[str]:
    """The `lines` (text, whether it may be counted) with a run of the same countable line (a
    `goto` loop going round) shown once: "step menu (line 10)  (and 4 more times)"."""
    out: list[str] = []
    repeats = 0
    for text, countable in lines:
        if out and countable and text == out[-1]:
            repeats += 1
            continue
        if repeats:
            out[-1] += f"  (and {repeats} more times)"
            repeats = 0
        out.append(text)
    if repeats:
        out[-1] += f"  (and {repeats} more times)"
    return out


def render(transcript: Transcript, program: Any = None) -> str:
    """The whole readable transcript of a simulated call."""
    lines = conversation(transcript, program)
    source = getattr(program, "source", None)
    out = counted((show(line, source), line.kind == "step") for line in lines[:-1])
    if transcript.stuck:
        out += ["", f"The flow is stuck: it waits for {transcript.waiting or 'something'}, "
                "which nothing the caller does can complete."]
    elif transcript.end.reason == "waiting" and transcript.waiting in INPUTS:
        out += ["", waiting_for(transcript.waiting)]
    else:
        out += ["", ending(lines, transcript.end, source)]
    return "\n".join(out) + "\n"


# Who the flow waits for, by the kind of wait, when it is not the caller.
_WAITING_FOR = {
    "fetch": "its backend",
    "transfer": "the number it transfers to",
    "queue": "an agent to take the call",
    "machine": "answering-machine detection",
    "beep": "the answering machine's beep",
}


def still_waiting(kind: str | None) -> str:
    """That a call ran out of inputs while the flow waits on `kind` (a simulated phone's wait;
    None: the caller), naming whom it waits for: `its backend`..."""
    who = _WAITING_FOR.get(kind or "", "the caller")
    return f"The flow is still waiting for {who}: no more inputs were given"


def waiting_for(kind: str) -> str:
    """The closing sentence of a scripted call whose inputs ran out while the flow waits on
    `kind`: who it waits for, and what the next `--input` can be."""
    return f"{still_waiting(kind)} (the next --input can be {INPUTS[kind].listed()})."
