"""A run's state between events as plain JSON data, and the correlation data its commands carry.

The state of a suspended run is a dict that survives `json.dumps`/`json.loads`:

    {"v": 1, "program": DIGEST, "call": {"id": ..., "caller": ..., "called": ...},
     "step": "menu", "frames": [[BLOCK, INDEX], ...], "calls": [[STEP, FRAMES], ...],
     "vars": {...}, "seq": 7,
     "wait": {"kind": "gather", "seq": 7, "first": 7, "try": 2}, "end": null}

`frames` is a stack of positions in the program's numbered blocks (the innermost last), so its
size is the flow's nesting depth, never the call's length. `calls` holds, for each `call STEP`
still running (the innermost last), the step and the frames to go back to when it returns; it
is at most CALL_DEPTH deep, and an older state without it has no call running. `seq` counts the
commands sent so far; each command's `client_state` carries its number, and `wait` says which
event, for which numbers, resumes the run. Nothing in it grows with the number of events handled.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Any

from flowlang.runtime.events import CallInfo

__all__ = [
    "CALL_DEPTH",
    "VERSION",
    "client_state",
    "command_id",
    "new_state",
    "problem",
    "read_client_state",
    "leg_client_state",
    "read_leg_state",
]

VERSION = 1

# How many `call`s may be running inside one another (LANGUAGE.md 15).
CALL_DEPTH = 50


def new_state(digest: str, call: CallInfo, step: str, block: int) -> dict[str, Any]:
    """The state of a run about to start at `step` (whose body is `block`)."""
    return {
        "v": VERSION,
        "program": digest,
        "call": {"id": call.call_control_id, "caller": call.caller, "called": call.called},
        "step": step,
        "frames": [[block, 0]],
        "calls": [],
        "vars": {"caller": call.caller, "called": call.called, "digits": ""},
        "seq": 0,
        "wait": None,
        "end": None,
    }


def problem(state: Any, digest: str) -> str | None:
    """Why `state` cannot be resumed by the program with `digest`, or None when it can."""
    if not isinstance(state, dict) or state.get("v") != VERSION:
        return "the stored call state is not one this version of flowlang wrote"
    if not isinstance(state.get("frames"), list) or not isinstance(state.get("vars"), dict):
        return "the stored call state is damaged"
    if not isinstance(state.get("calls", []), list):
        return "the stored call state is damaged"
    if not isinstance(state.get("call"), dict) or not isinstance(state.get("seq"), int):
        return "the stored call state is damaged"
    if state.get("program") != digest:
        return "this call was started by a different version of the flow; it cannot be resumed"
    return None


# client_state is the JSON `{"flowlang":SEQ}` in base64. It is written and read with byte
# operations rather than the json module: this runs for every command and every webhook.
_PREFIX = b'{"flowlang":'
_SUFFIX = b"}"


@lru_cache(maxsize=4096)
def client_state(seq: int) -> str:
    """The base64 `client_state` of command number `seq` (one line, no padding surprises)."""
    return base64.b64encode(_PREFIX + str(seq).encode("ascii") + _SUFFIX).decode("ascii")


def read_client_state(value: Any) -> int | None:
    """The command number carried by a webhook's `client_state`, None when it is not ours."""
    if not isinstance(value, str) or not value:
        return None
    return _read(value)


# Every call numbers its commands from 1, so the same few client_states recur across calls.
@lru_cache(maxsize=4096)
def _read(value: str) -> int | None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not (raw.startswith(_PREFIX) and raw.endswith(_SUFFIX)):
        return None
    digits = raw[len(_PREFIX) : -len(_SUFFIX)]
    return int(digits) if digits.isdigit() and len(digits) < 19 else None


def leg_client_state(call_control_id: str, seq: int) -> str:
    """The `target_leg_client_state` of transfer number `seq`: it names the original call, so
    the new leg's webhooks (which carry their own call_control_id) find their way back to it."""
    raw = json.dumps({"flowlang_leg": seq, "call": call_control_id}, separators=(",", ":"))
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def read_leg_state(value: Any) -> tuple[str, int] | None:
    """(original call_control_id, transfer number) from a new leg's `client_state`, or None."""
    if not isinstance(value, str) or not value.startswith(_LEG_PREFIX):
        return None
    try:
        found = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(found, dict):
        return None
    call, seq = found.get("call"), found.get("flowlang_leg")
    if not isinstance(call, str) or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    return call, seq


# Every leg state starts with the same bytes, so its base64 starts with the same characters.
_LEG_PREFIX = base64.b64encode(b'{"flowlang_leg":').decode("ascii")[:20]


def command_id(call_control_id: str, seq: int) -> str:
    """A unique, deterministic `command_id` for command number `seq` on this call.

    Telnyx deduplicates command ids per call, so the call's id and the number together are unique
    wherever they are seen, and the same command re-sent after a crash carries the same id."""
    return f"{call_control_id}/{seq}"
