"""The compiled form of a flow: flat numbered blocks of resolved operations, ready to interpret.

A `Program` is what the compiler produces and the interpreter runs. Every statement list of the
flow (a step's body, an `if` arm, a handler's body) becomes one `Block`, numbered by its position
in `Program.blocks`; an operation refers to the blocks it may enter by number. That numbering is
what lets a suspended run be stored as a tiny stack of `(block, index)` pairs instead of a history.
Settings and defaults are already applied (the file's voice and language, gather inference, the
`ai_gather` JSON Schema), so the interpreter never looks at the syntax tree's options again.
"""

from __future__ import annotations

from attrs import field, frozen

from flowlang.source import Source
from flowlang.syntax.nodes import Expr, Str


@frozen
class Handler:
    """A block to run when something happens, and its coverage point (`on:LINE`, `if:LINE`...)."""

    block: int
    point: str
    line: int


@frozen
class Branch:
    """`on digits "1", "2":` of a gather: the entries it matches (strings, maybe interpolated)."""

    values: tuple[Str, ...]
    handler: Handler


@frozen
class Key:
    """`on key "0":` in an `ai_gather` or `assistant`: the key and what to run."""

    key: str
    handler: Handler


@frozen
class AnswerOp:
    """Send `answer`, wait for `call.answered`."""

    line: int


@frozen
class HangupOp:
    """Send `hangup`; the run ends."""

    line: int


@frozen
class SayOp:
    """Send `speak`, wait for `call.speak.ended`; `voice`/`language` default to the file's.
    `fixed`: the `say` names its own language, so it is said as written in every language."""

    line: int
    text: Str
    voice: Str | None
    language: Str | None
    ssml: bool
    fixed: bool = False


@frozen
class PlayOp:
    """Send `playback_start` (`audio_url`, or `media_name` when `media`), wait for the end."""

    line: int
    source: Str
    media: bool


@frozen
class TransferOp:
    """Send `transfer`. `timeout_secs` already converted from the duration. Without handlers
    the run ends; with any, it waits for the new leg: answered ends the run as a transfer,
    a hangup before answering runs the handler its cause picks (None: go on after)."""

    line: int
    to: Str
    from_: Str | None
    timeout_secs: int | None
    on_no_answer: Handler | None = None
    on_busy: Handler | None = None
    on_failed: Handler | None = None
    waits: bool = False


@frozen
class DetectOp:
    """Wait for the answering-machine detection's result and run its handler (None: go on)."""

    line: int
    on_human: Handler | None
    on_machine: Handler | None
    on_not_sure: Handler | None


@frozen
class TryAgainOp:
    """`try again` in the `on digits` handler of the gather at line `gather`: that try counts
    as invalid."""

    line: int
    gather: int


@frozen
class WaitBeepOp:
    """Wait for the end of an answering machine's greeting (`call.machine.greeting.ended`)."""

    line: int


@frozen
class Outbound:
    """How the calls of an outbound flow are placed: from `from_`, with the values of `inputs`,
    and `machine_detection` the `answering_machine_detection` to ask for (None: none)."""

    from_: str
    inputs: tuple[str, ...]
    machine_detection: str | None


@frozen
class SmsOp:
    """Send a text message (`POST /messages`); does not wait. `from_` is the statement's, else
    the file's `sms_from`; None: the number the caller called. `language` is the file's (the
    first of `languages:`): the text lists a list in its words, as speech does."""

    line: int
    to: Str
    text: Str
    from_: Str | None
    language: Str | None = None


@frozen
class RecordOp:
    """Send `record_start` and wait for the recording (`call.recording.saved` / `.error`).
    `end_key` is stopped on by flowlang (`record_stop`); the result goes into `into`."""

    line: int
    into: str | None
    max_secs: int | None
    silence_secs: int | None
    beep: bool
    end_key: str | None
    on_saved: Handler | None
    on_error: Handler | None


@frozen
class QueueOp:
    """Send `enqueue` (and the looped hold music, if any) and wait for `call.dequeued`."""

    line: int
    name: Str
    max_wait_secs: int
    music: Str | None
    media: bool
    on_timeout: Handler | None


@frozen
class GotoOp:
    """Continue at step `target`, whose body is block `block`."""

    line: int
    target: str
    block: int


@frozen
class CallOp:
    """Run step `target` (body: block `block`) as a call; its end or `return` comes back here."""

    line: int
    target: str
    block: int


@frozen
class ReturnOp:
    """Leave the innermost called step; continue after its `call`."""

    line: int


@frozen
class SetOp:
    """Assign the value of `value` to variable `name`."""

    line: int
    name: str
    value: Expr


@frozen
class LogOp:
    """Write `text` to the run's log."""

    line: int
    text: Str


@frozen
class Arm:
    """One arm of an `if`: `cond` None for `else`."""

    cond: Expr | None
    handler: Handler


@frozen
class IfOp:
    """Run the first arm whose condition holds (an `else` arm always holds), then continue."""

    line: int
    arms: tuple[Arm, ...]


@frozen
class GatherOp:
    """One `gather`, every option resolved: `action` is the Telnyx command of each try.

    `options` are the body fields sent on every try (`minimum_digits`, ... only those written or
    inferred; `maximum_tries: 1` for the `_using_` commands). `prompt` is the joined text of the
    `say` prompt lines (None without one); `audio` the `play` prompt's source. `reprompt` is
    said after a failed try of any outcome; `reprompt_invalid`/`reprompt_timeout`, when written,
    after a try of that outcome instead.
    """

    line: int
    action: str
    options: tuple[tuple[str, int | str], ...]
    prompt: tuple[Str, ...]
    ssml: bool
    voice: Str | None
    language: Str | None
    audio: Str | None
    media: bool
    reprompt: Str | None
    tries: int
    terminator: str | None
    into: str | None
    branches: tuple[Branch, ...]
    catch_all: Handler | None
    on_invalid: Handler | None
    on_timeout: Handler | None
    reprompt_invalid: Str | None = None
    reprompt_timeout: Str | None = None

    def reprompt_after(self, outcome: str) -> Str | None:
        """What is said before the next try after a try that ended `invalid` or `timeout`."""
        written = self.reprompt_invalid if outcome == "invalid" else self.reprompt_timeout
        return written if written is not None else self.reprompt


@frozen
class AiGatherOp:
    """One `ai_gather`: `parameters` is the JSON Schema sent to Telnyx, as canonical JSON text."""

    line: int
    parameters: str
    greeting: Str | None
    voice: Str | None
    language: str | None
    timeout_ms: int | None
    into: str | None
    on_valid: Handler | None
    on_invalid: Handler | None
    keys: tuple[Key, ...]
    # (field, description) for the descriptions with `{...}` in them: a string's variables are
    # filled in when the command is sent, so these replace their field's in `parameters` then.
    descriptions: tuple[tuple[str, Str], ...] = ()


@frozen
class AssistantOp:
    """One `assistant`: started, sent its `message` lines, awaited until the conversation ends.
    `messages` are (role, text, tool call id or None)."""

    line: int
    id: Str
    instructions: Str | None
    voice: Str | None
    greeting: Str | None
    messages: tuple[tuple[str, Str, Str | None], ...]
    keys: tuple[Key, ...]


# LANGUAGE.md 10: a fetch waits 5 s by default, and never more than 10 s.
DEFAULT_FETCH_TIMEOUT_MS = 5_000
MAX_FETCH_TIMEOUT_MS = 10_000


@frozen
class FetchOp:
    """One `fetch`: ask the backend at `url` (values interpolated into it are percent-encoded)
    and wait for the answer. `headers` are (name, value, secret) with `value` the name of an
    environment variable when `secret`; `sends` are the fields of a POST's JSON body;
    `timeout_ms` is already defaulted and capped."""

    line: int
    url: Str
    method: str
    into: str | None
    timeout_ms: int
    headers: tuple[tuple[str, Str, bool], ...]
    sends: tuple[tuple[str, Expr], ...]
    on_error: Handler | None


Op = (
    AnswerOp
    | HangupOp
    | SayOp
    | PlayOp
    | TransferOp
    | GotoOp
    | CallOp
    | ReturnOp
    | SetOp
    | LogOp
    | IfOp
    | GatherOp
    | AiGatherOp
    | AssistantOp
    | SmsOp
    | RecordOp
    | QueueOp
    | DetectOp
    | WaitBeepOp
    | TryAgainOp
    | FetchOp
)


@frozen
class OpeningHours:
    """`hours NAME:` compiled: for each weekday (Monday first) the open minutes of the day as
    `[start, end)` pairs, and the `closed` dates (`YYYY-MM-DD`, or `MM-DD` for that day of
    every year), closed whatever the weekday."""

    name: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    closed: frozenset[str]

    def is_open(self, date: str, weekday: int, minute: int) -> bool:
        """Whether these hours are open at `minute` (of the day) on `date`, a `weekday`."""
        if date in self.closed or date[5:] in self.closed:
            return False
        return any(start <= minute < end for start, end in self.week[weekday])


@frozen
class Block:
    """A statement list, compiled: operations run in order."""

    ops: tuple[Op, ...]


@frozen
class StepInfo:
    """A step: its name, the block of its body, the line it is defined on."""

    name: str
    block: int
    line: int


@frozen
class Program:
    """A compiled flow. `digest` is the sha256 of the source text (and of every included file:
    `Source.fingerprint`); a run's state names it, so a
    state is never resumed against a different program. The first step is the entry.
    `languages` are the languages the flow speaks, with their voices and the name speech
    recognition (`ai_gather`) knows each by (its own first);
    `translations` the catalog of each other language: the flow's text, and what to say.
    `timezone` (IANA) is the clock `now` and `open` read; `hours` the file's opening hours."""

    source: Source
    digest: str
    steps: tuple[StepInfo, ...]
    blocks: tuple[Block, ...]
    on_hangup: Handler | None
    points: tuple[str, ...] = field(repr=False)
    languages: tuple[tuple[str, Str | None, str | None], ...] = ()
    translations: tuple[tuple[str, tuple[tuple[str, Str], ...]], ...] = field(
        default=(), repr=False
    )
    timezone: str = "UTC"
    hours: tuple[OpeningHours, ...] = ()
    outbound: Outbound | None = None

    @property
    def entry(self) -> StepInfo:
        return self.steps[0]

    def step(self, name: str) -> StepInfo | None:
        """The step called `name`, None when there is none."""
        for s in self.steps:
            if s.name == name:
                return s
        return None

    def coverage_points(self) -> tuple[str, ...]:
        """Every coverage point, in source order: `step:NAME`, `on:LINE`, `if:LINE`,
        `elif:LINE`, `else:LINE` (LINE is the `.flow` line of the handler or arm)."""
        return self.points
