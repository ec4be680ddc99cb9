"""The scenario file format (`.scenarios`): its data, and a parser with positioned errors."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from attrs import frozen

from flowlang.diagnostics import Diagnostic, Severity
from flowlang.errors import FlowSyntaxError
from flowlang.lint.numbers import number_problem
from flowlang.offline.phone import (
    KEYS,
    AiResult,
    CallerAction,
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
from flowlang.source import Source, Span
from flowlang.syntax.explain import (
    CURLY_DOUBLE,
    CURLY_QUOTES_MESSAGE,
    CURLY_SINGLE,
    straight_quotes,
)

SUFFIX = ".scenarios"

# Codes of scenario file errors (FL9xx: the scenario format, apart from the flow language's).
NOT_A_STEP = "FL901"
BAD_STRING = "FL902"
BAD_JSON = "FL903"
BAD_LAYOUT = "FL904"

END_REASONS = ("hangup", "transfer", "completed", "waiting", "error")
EXPECT_KINDS = (
    "say", "play", "transfer", "hangup", "end", "step", "log", "error", "sms", "record", "queue",
    "fetch",
)  # fmt: skip
STEP_FORMS = (
    'press "1"',
    'press key "0"',
    "silence",
    "hang up",
    'ai returns {"name": "Bob"}',
    "ai fails {}",
    "conversation ends",
    "recording saved",
    "recording saved 42",
    "recording fails",
    "recording never arrives",
    "transfer answered",
    "transfer no_answer",
    "transfer busy",
    "transfer fails",
    "agent answers",
    "queue times out",
    "detected human",
    "detected machine",
    "detected not_sure",
    "greeting beeps",
    "greeting ends",
    'with patient "Ann Lee"',
    'backend returns {"state": "shipped"}',
    "backend fails",
    'expect say "text"',
    'expect play "URL"',
    'expect transfer "+13125550001"',
    "expect hangup",
    "expect end completed",
    "expect step NAME",
    'expect log "text"',
    'expect error "text"',
    'expect fetch "https://api.acme.com/orders/12345"',
    'from "+15551234567"',
    'to "+15550002222"',
    'at "2026-11-23T14:05"',
)


# Caller-side words for the waits of section 14, and what may follow each.
_WAIT_FORMS = {
    "recording": ("saved", "fails", "never"),
    "transfer": ("answered", "no_answer", "busy", "fails"),
    "agent": ("answers",),
    "queue": ("times",),
    "detected": ("human", "machine", "not_sure"),
    "greeting": ("beeps", "ends"),
}


@frozen
class Act:
    """A caller action in a scenario: `press "1"`, `silence`, `ai returns {...}`..."""

    action: CallerAction
    span: Span
    written: str


@frozen
class Expect:
    """An expectation: `kind` (one of EXPECT_KINDS) and `value` (text, number, step or reason)."""

    kind: str
    value: str
    span: Span
    written: str


Step = Act | Expect


@frozen
class Scenario:
    """One named scenario: who calls whom, when (`at`, as written), and its steps in order."""

    name: str
    span: Span
    steps: tuple[Step, ...]
    caller: str | None = None
    called: str | None = None
    language: str | None = None
    at: str | None = None
    # The values of an outbound flow's `input` lines: `with NAME "value"` lines.
    inputs: tuple[tuple[str, str], ...] = ()


@frozen
class ScenarioFile:
    """A parsed `.scenarios` file: the flow it tests (`flow`, relative to the file, None for the
    file of the same name), default numbers, and its scenarios."""

    source: Source
    flow: str | None
    scenarios: tuple[Scenario, ...]
    caller: str | None = None
    called: str | None = None
    flow_span: Span | None = None
    language: str | None = None
    at: str | None = None


class _Cursor:
    """Reads one line's tokens left to right, keeping columns for diagnostics."""

    def __init__(self, text: str, number: int, column: int) -> None:
        self.text = text
        self.number = number
        self.pos = column - 1

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    @property
    def column(self) -> int:
        return self.pos + 1

    def at_end(self) -> bool:
        self.skip_space()
        rest = self.text[self.pos :]
        return rest == "" or rest.startswith("#")

    def span(self, start: int, end: int | None = None) -> Span:
        return Span(self.number, start, self.number, max(end or self.column, start + 1))

    def word(self) -> tuple[str, Span]:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_-*#+"
        ):
            self.pos += 1
        return self.text[start : self.pos], self.span(start + 1, self.pos + 1)

    def peek_word(self) -> str:
        saved = self.pos
        word, _ = self.word()
        self.pos = saved
        return word


# A field name or a text without double quotes in a JSON object: `{name: 'Bob'}`.
_BARE_KEY = re.compile(r"([{,]\s*)'?([^\W\d][\w ]*?)'?\s*:")
_SINGLE_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _json_with_double_quotes(written: str) -> str | None:
    """`{name: "Bob"}` or `{'name': 'Bob'}` written as JSON (`{"name": "Bob"}`), when that is
    all that is wrong with it; else None."""
    fixed = _BARE_KEY.sub(lambda m: f'{m.group(1)}"{m.group(2)}":', written)
    fixed = _SINGLE_QUOTED.sub(lambda m: json.dumps(m.group(1)), fixed)
    if fixed == written:
        return None
    try:
        value = json.loads(fixed)
    except json.JSONDecodeError:
        return None
    return json.dumps(value) if isinstance(value, dict) else None


class ScenarioSyntaxError(FlowSyntaxError):
    """A `.scenarios` file that cannot be read, with every problem found."""


def parse_scenarios(source: Source) -> ScenarioFile:
    """Parse a scenario file; raises ScenarioSyntaxError with positioned, hinted diagnostics."""
    return _Parser(source).parse()


class _Parser:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []
        self.flow: str | None = None
        self.flow_span: Span | None = None
        self.caller: str | None = None
        self.called: str | None = None
        self.language: str | None = None
        self.at: str | None = None
        self.scenarios: list[Scenario] = []
        self.current: dict[str, Any] | None = None
        self.indent: int | None = None
        # Set when a `scenario` line could not be read: its indented steps are not reported
        # again as lines outside a scenario.
        self.broken_scenario = False

    def problem(self, code: str, message: str, span: Span, label: str = "",
                help: str | None = None) -> None:
        self.problems.append(
            Diagnostic(code, Severity.ERROR, message, self.source.name, span, label, help)
        )

    def parse(self) -> ScenarioFile:
        for number, raw in enumerate(self.source.lines, start=1):
            self.line(number, raw)
        self.close()
        names: dict[str, Scenario] = {}
        for scenario in self.scenarios:
            if scenario.name in names:
                first = names[scenario.name].span.line
                self.problem(BAD_LAYOUT, f'two scenarios are called "{scenario.name}"',
                             scenario.span, "second one",
                             f"give each scenario its own name (the first is on line {first})")
            names.setdefault(scenario.name, scenario)
        if not self.scenarios and not self.problems:
            # Nothing to run would pass quietly ("0 passed, 0 failed"): a CI run must not.
            self.problem(BAD_LAYOUT, "no scenarios in this file", Span(1, 1, 1, 2),
                         "nothing to run",
                         'write one `scenario "...":` block with the caller\'s actions and '
                         "what to expect (see docs/testing.md)")
        if self.problems:
            raise ScenarioSyntaxError(sorted(self.problems, key=lambda d: d.sort_key))
        return ScenarioFile(self.source, self.flow, tuple(self.scenarios), self.caller,
                            self.called, self.flow_span, self.language, self.at)

    def line(self, number: int, raw: str) -> None:
        stripped = raw.lstrip(" ")
        if not stripped.strip() or stripped.startswith("#"):
            return
        indent = len(raw) - len(stripped)
        if stripped.startswith("\t") or "\t" in raw[:indent + 1]:
            column = raw.index("\t") + 1
            self.problem(BAD_LAYOUT, "a tab is used for indentation", Span.point(number, column),
                         "tab", "indent with spaces (for example 4) instead of tabs")
            return
        cursor = _Cursor(raw.rstrip(), number, indent + 1)
        if indent == 0:
            self.top_level(cursor)
            return
        if self.current is None and self.broken_scenario:
            return
        if self.current is None:
            self.problem(BAD_LAYOUT, "this line is indented but is not inside a scenario",
                         cursor.span(indent + 1, len(raw.rstrip()) + 1), "",
                         'steps go under a `scenario "NAME":` line')
            return
        if self.indent is None:
            self.indent = indent
        elif indent != self.indent:
            self.problem(BAD_LAYOUT, "the indentation of this line does not match the lines "
                         "above it", Span.point(number, 1, indent), "",
                         f"indent every step of a scenario by the same {self.indent} spaces")
            return
        self.current["lines"] += 1
        step = self.step(cursor)
        if step is not None:
            self.current["steps"].append(step)

    def close(self) -> None:
        current, self.current, self.indent = self.current, None, None
        if current is None:
            return
        if not current["lines"]:
            self.problem(BAD_LAYOUT, f'scenario "{current["name"]}" has no steps',
                         current["span"], "empty",
                         'indent its steps under it, for example `    press "1"`')
            return
        self.scenarios.append(Scenario(current["name"], current["span"],
                                       tuple(current["steps"]), current["caller"],
                                       current["called"], current["language"],
                                       current["at"], tuple(current["inputs"])))

    def top_level(self, cursor: _Cursor) -> None:
        self.close()
        self.broken_scenario = False
        word, span = cursor.word()
        if word == "scenario":
            self.broken_scenario = True
            bare = cursor.text[cursor.pos :].split(":")[0].strip()
            example = (f'scenario "{bare}":' if bare and not bare.startswith('"')
                       else 'scenario "Caller picks sales":')
            name = self.string(cursor, "the scenario's name", example)
            if name is None:
                return
            cursor.skip_space()
            if not cursor.text[cursor.pos :].startswith(":"):
                self.problem(NOT_A_STEP, "a scenario line ends with `:`",
                             cursor.span(cursor.column), "expected `:` here",
                             f'write it as `scenario "{name}":`')
                return
            cursor.pos += 1
            if self.trailing(cursor):
                return
            self.broken_scenario = False
            self.current = {"name": name, "span": span.cover(cursor.span(cursor.column - 1)),
                            "steps": [], "lines": 0, "caller": None, "called": None,
                            "language": None, "at": None, "inputs": []}
            return
        if word in ("flow", "from", "to", "language", "at"):
            value = self.string(cursor, f"the {word} value", f'{word} "..."')
            if value is None or self.trailing(cursor):
                return
            if word == "at":
                self.at = self.time(value, span)
            elif word == "flow":
                self.flow, self.flow_span = value, span
            elif word == "language":
                self.language = value
            elif word == "from":
                self.caller = value
            else:
                self.called = value
            return
        self.unknown(word, span, top=True)

    def unknown(self, word: str, span: Span, top: bool) -> None:
        if top:
            known = ["scenario", "flow", "from", "to", "language", "at"]
            near = [word.lower()] if word.lower() in known else []
            near = near or difflib.get_close_matches(word, known, n=1)
            hint = (f"did you mean `{near[0]}`?" if near else
                    'a file holds `scenario "NAME":` lines with their steps indented below them')
            if not near and word in {f.split()[0] for f in STEP_FORMS}:
                hint = 'steps go indented under a `scenario "NAME":` line'
            self.problem(NOT_A_STEP, f"`{word}` cannot start a line here", span, "unexpected",
                         hint)
            return
        firsts = sorted({f.split()[0] for f in STEP_FORMS})
        near = [word.lower()] if word.lower() in firsts else []
        near = near or difflib.get_close_matches(word, firsts, n=1)
        forms = [f for f in STEP_FORMS if near and f.split()[0] == near[0]]
        hint = (f"did you mean {', '.join(f'`{f}`' for f in forms)}?" if forms else
                "a step is one of: " + ", ".join(f"`{f}`" for f in STEP_FORMS))
        if forms and word != word.lower():
            example = "" if forms[0] == word.lower() else f", as in `{forms[0]}`"
            hint = f"steps are written in lowercase: write `{word.lower()}`{example}"
        self.problem(NOT_A_STEP, f"`{word}` is not a scenario step", span, "unknown step", hint)

    def time(self, value: str, span: Span) -> str | None:
        """`value` when it is a time `at` can take (read in the flow's timezone when run)."""
        from flowlang.clock import OutOfRange, parse_at

        try:
            parse_at(value, "UTC")
        except OutOfRange as exc:
            self.problem(BAD_STRING, f'"{value}" is out of range', span, "out of range",
                         str(exc).split(": ", 1)[-1])
            return None
        except ValueError as exc:
            self.problem(BAD_STRING, f'"{value}" is not a date and time', span, "not a time",
                         str(exc).split(": ", 1)[-1])
            return None
        return value

    def trailing(self, cursor: _Cursor) -> bool:
        if cursor.at_end():
            return False
        end = len(cursor.text)
        self.problem(NOT_A_STEP, "unexpected text at the end of the line",
                     cursor.span(cursor.column, end + 1), "not understood",
                     "remove it, or start a comment with `#`")
        return True

    def dialable(self, number: str, span: Span) -> bool:
        """Whether `expect transfer "NUMBER"` can match: the flow can only transfer to a
        number in international form (FL112), and spaces or dashes are ignored when matching,
        so `"312-555-0101"` would never match."""
        if number.lower().startswith(("sip:", "sips:")):
            return True
        digits = "".join(c for c in number if c.isdigit() or c == "+")
        found = number_problem(digits)
        if found is None:
            return True
        self.problem(BAD_STRING, f'"{number}" {found.problem}, so no transfer of a flow can'
                     " match it", span, "cannot match", found.fix)
        return False

    def string(self, cursor: _Cursor, what: str, example: str) -> str | None:
        cursor.skip_space()
        start = cursor.column
        text = cursor.text
        if cursor.pos < len(text) and text[cursor.pos] in CURLY_DOUBLE + CURLY_SINGLE:
            self.problem(BAD_STRING, CURLY_QUOTES_MESSAGE, cursor.span(start), "curly quote",
                         f"type straight quotes: `{straight_quotes(text, cursor.pos)}`")
            return None
        if cursor.pos >= len(text) or text[cursor.pos] != '"':
            self.problem(BAD_STRING, f"expected {what} in double quotes", cursor.span(start),
                         'expected "..."', f"write it like `{example}`")
            return None
        out: list[str] = []
        i = cursor.pos + 1
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                out.append({"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                i += 2
                continue
            if char == '"':
                cursor.pos = i + 1
                return "".join(out)
            out.append(char)
            i += 1
        self.problem(BAD_STRING, "this string has no closing quote", cursor.span(start, i + 1),
                     "starts here", 'end it with `"` on the same line')
        return None

    def step(self, cursor: _Cursor) -> Step | None:
        start = cursor.column
        word, span = cursor.word()
        if word == "scenario":
            self.problem(BAD_LAYOUT, "a scenario cannot be inside another scenario", span,
                         "indented", 'start `scenario "NAME":` at the beginning of the line')
            return None
        if word in ("from", "to"):
            value = self.string(cursor, f"the {word} number", f'{word} "+15551234567"')
            if value is not None and not self.trailing(cursor):
                assert self.current is not None
                self.current["caller" if word == "from" else "called"] = value
            return None
        if word == "with":
            name, _ = cursor.word()
            value = self.string(cursor, "the input's value", 'with patient "Ann Lee"')
            if name and value is not None and not self.trailing(cursor):
                assert self.current is not None
                self.current["inputs"].append((name, value))
            return None
        if word == "language":
            value = self.string(cursor, "the language", 'language "es-US"')
            if value is not None and not self.trailing(cursor):
                assert self.current is not None
                self.current["language"] = value
            return None
        if word == "at":
            value = self.string(cursor, "the time of the call", 'at "2026-11-23T14:05"')
            if value is not None and not self.trailing(cursor):
                assert self.current is not None
                self.current["at"] = self.time(value, span)
            return None
        if word == "expect":
            return self.expect(cursor, start)
        action = self.action(word, span, cursor)
        if action is None or self.trailing(cursor):
            return None
        return Act(action, cursor.span(start, cursor.column),
                   cursor.text[start - 1 : cursor.pos].strip())

    def action(self, word: str, span: Span, cursor: _Cursor) -> CallerAction | None:
        if word in ("silence", "timeout"):
            return Silence()
        if word == "hangup":
            return HangUp()
        if word == "hang":
            return HangUp() if self.next_word(cursor, "up", "hang up") else None
        if word == "conversation":
            return ConversationEnds() if self.next_word(cursor, "ends", "conversation ends") \
                else None
        if word in _WAIT_FORMS:
            return self.wait_action(word, cursor)
        if word == "press":
            if cursor.peek_word() == "key":
                cursor.word()
                key = self.keys(cursor, 'press key "0"')
                if key is None:
                    return None
                if len(key) != 1:
                    self.problem(NOT_A_STEP, "`press key` takes exactly one key",
                                 cursor.span(cursor.column - len(key) - 2, cursor.column),
                                 "more than one key",
                                 'use `press "1234"` for an entry at a key-press question')
                    return None
                return KeyDuringAi(key)
            keys = self.keys(cursor, 'press "1"')
            return None if keys is None else Press(keys)
        if word == "ai":
            how, how_span = cursor.word()
            if how not in ("returns", "fails"):
                self.problem(NOT_A_STEP, "after `ai` comes `returns` or `fails`", how_span,
                             "expected returns or fails",
                             'write `ai returns {"name": "Bob"}` or `ai fails {}`')
                return None
            result = self.json_object(cursor, optional=how == "fails", backend=False)
            if result is None:
                return None
            return AiResult(result, how == "returns")
        if word == "backend":
            how, how_span = cursor.word()
            if how == "fails":
                return FetchAnswer(None)
            if how != "returns":
                self.problem(NOT_A_STEP, "after `backend` comes `returns` or `fails`", how_span,
                             "expected returns or fails",
                             'write `backend returns {"state": "shipped"}` or `backend fails`')
                return None
            answer = self.json_object(cursor, optional=False, backend=True)
            return None if answer is None else FetchAnswer(answer)
        self.unknown(word, span, top=False)
        return None

    def wait_action(self, word: str, cursor: _Cursor) -> CallerAction | None:
        """`recording saved [SECONDS]`, `recording fails`, `recording never arrives`,
        `transfer answered` (`no_answer`, `busy`, `fails`), `agent answers`, `queue times out`."""
        forms = _WAIT_FORMS[word]
        how, how_span = cursor.word()
        if how == "times" and word == "queue":
            return Dequeued("timeout") if self.next_word(cursor, "out", "queue times out") \
                else None
        if how not in forms:
            written = ", ".join(f"`{word} {f}`" for f in forms)
            self.problem(NOT_A_STEP, f"after `{word}` comes one of: {', '.join(forms)}",
                         how_span, "unknown", f"write one of {written}")
            return None
        if word == "recording":
            if how == "fails":
                return Recorded(saved=False)
            if how == "never":
                return RecordingLost() if self.next_word(
                    cursor, "arrives", "recording never arrives"
                ) else None
            seconds = cursor.peek_word()
            if seconds and seconds.isdigit() and len(seconds) < 7:
                cursor.word()
                return Recorded(True, int(seconds))
            return Recorded()
        if word == "transfer":
            return LegResult("failed" if how == "fails" else how)
        if word == "detected":
            return Detected(how)
        if word == "greeting":
            return Greeting(beep=how == "beeps")
        return Dequeued("bridged")

    def next_word(self, cursor: _Cursor, expected: str, form: str) -> bool:
        word, span = cursor.word()
        if word == expected:
            return True
        self.problem(NOT_A_STEP, f"expected `{form}`", span, f"expected `{expected}`",
                     f"write `{form}`")
        return False

    def keys(self, cursor: _Cursor, example: str) -> str | None:
        cursor.skip_space()
        start = cursor.column
        if cursor.pos < len(cursor.text) and cursor.text[cursor.pos] == '"':
            keys = self.string(cursor, "the keys", example)
            if keys is None:
                return None
        else:
            keys, _ = cursor.word()
        bad = [k for k in keys if k not in KEYS]
        if not keys or bad:
            self.problem(NOT_A_STEP, "keys are 0-9, * and #" if keys else "which keys?",
                         cursor.span(start, cursor.column), "not keys",
                         f"write it like `{example}`")
            return None
        return keys

    def json_object(self, cursor: _Cursor, optional: bool, backend: bool) -> dict[str, Any] | None:
        """The JSON object after `ai returns`/`ai fails` or `backend returns` (`backend`)."""
        what = "the backend's answer" if backend else "the AI result"
        example = (
            'write a JSON object, like {"state": "shipped"}; for a backend that answers anything '
            "else, which fails the fetch, write `backend fails`"
            if backend
            else 'write a JSON object, like {"name": "Bob", "guests": 4}'
        )
        cursor.skip_space()
        raw = cursor.text[cursor.pos :]
        start = cursor.column
        if not raw.strip() and optional:
            return {}
        decoder = json.JSONDecoder()
        try:
            value, used = decoder.raw_decode(raw)
        except json.JSONDecodeError as exc:
            fixed = _json_with_double_quotes(raw.split("#")[0].strip())
            if fixed is not None:
                self.problem(BAD_JSON, "put each field name in double quotes",
                             cursor.span(start + exc.pos, start + exc.pos + 1), "here",
                             f"write `{fixed}`")
                return None
            self.problem(BAD_JSON, f"{what} is not valid JSON: {exc.msg}",
                         cursor.span(start + exc.pos, start + exc.pos + 1), "here", example)
            return None
        if not isinstance(value, dict):
            self.problem(BAD_JSON, f"{what} must be a JSON object",
                         cursor.span(start, start + used), "not an object", example)
            return None
        cursor.pos += used
        return value

    def expect(self, cursor: _Cursor, start: int) -> Expect | None:
        kind, span = cursor.word()
        if kind == "hear":
            kind = "say"
        if kind == "hang":
            if not self.next_word(cursor, "up", "expect hang up"):
                return None
            kind = "hangup"
        if kind not in EXPECT_KINDS:
            near = difflib.get_close_matches(kind, EXPECT_KINDS, n=1)
            hint = (f"did you mean `expect {near[0]}`?" if near else
                    "expect one of: " + ", ".join(EXPECT_KINDS))
            self.problem(NOT_A_STEP, f"`expect {kind}` is not something a scenario can expect"
                         if kind else "expect what?", span, "unknown", hint)
            return None
        value = ""
        if kind in ("say", "play", "transfer", "log", "sms", "queue", "fetch"):
            cursor.skip_space()
            quoted = cursor.column
            got = self.string(cursor, f"the {kind} text", f'expect {kind} "..."')
            if got is None:
                return None
            value = got
            if kind == "transfer" and not self.dialable(value, cursor.span(quoted)):
                return None
        elif kind == "error" and not cursor.at_end():
            got = self.string(cursor, "part of the error message", 'expect error "not defined"')
            if got is None:
                return None
            value = got
        elif kind in ("end", "step"):
            value, value_span = cursor.word()
            if kind == "end" and value not in END_REASONS:
                self.problem(NOT_A_STEP, f"`{value}` is not a way a call ends" if value else
                             "how should the call end?", value_span, "unknown",
                             "use one of: " + ", ".join(END_REASONS))
                return None
            if kind == "step" and not value:
                self.problem(NOT_A_STEP, "which step?", value_span, "step name",
                             "write `expect step NAME` with a step of the flow")
                return None
        if self.trailing(cursor):
            return None
        return Expect(kind, value, cursor.span(start, cursor.column),
                      cursor.text[start - 1 : cursor.pos].strip())
