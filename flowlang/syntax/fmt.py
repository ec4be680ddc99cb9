"""The formatter: renders a `.flow` syntax tree, with its comments, in the one canonical layout."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from attrs import define, field, frozen

from flowlang.source import Source
from flowlang.syntax import nodes
from flowlang.syntax.nodes import (
    AiGather,
    Answer,
    Assistant,
    BinOp,
    Bool,
    Call,
    Comment,
    Detect,
    DigitRange,
    Duration,
    Elif,
    Expr,
    Fetch,
    Flow,
    Gather,
    Goto,
    Hangup,
    If,
    Int,
    ListExpr,
    Log,
    Not,
    On,
    Play,
    Queue,
    Record,
    Return,
    Say,
    Set,
    Sms,
    Stmt,
    Str,
    Transfer,
    TryAgain,
    Var,
    WaitBeep,
)

__all__ = ["INDENT", "format_flow", "format_text", "render_expr", "render_str"]

INDENT = "    "

# Statements that may stand on a handler's own line (`on digits "1": goto sales`); blocks may not.
# A `fetch` may, when it is written on one line (no headers, `send` lines or handler).
SIMPLE_STATEMENTS = (
    Answer, Hangup, Say, Play, Transfer, Goto, Call, Return, Set, Log, Fetch, Sms, Record, Queue,
    WaitBeep, TryAgain,
)  # fmt: skip

_ATOM_PRECEDENCE = 6
_SETTING_ORDER = {"voice": 0, "language": 1, "timezone": 2, "sms_from": 3, "outbound": 4}


# ---------------------------------------------------------------------------------------------
# Leaves: strings, durations, expressions


def render_str(value: Str) -> str:
    """The string as a `.flow` literal: quotes, escapes, `{{`/`}}` and `{path}` interpolations."""
    out = ['"']
    for part in value.parts:
        if isinstance(part, str):
            out.append(
                part.replace("\\", "\\\\")
                .replace('"', '\\"')
                .replace("\n", "\\n")
                .replace("{", "{{")
                .replace("}", "}}")
            )
        else:
            out.append("{" + part.written + "}")
    out.append('"')
    return "".join(out)


def render_hours_line(line: nodes.DayHours | nodes.Closed) -> str:
    """One line of an `hours` block: `mon-fri 9:00-17:00` or `closed 2026-12-25`."""
    if isinstance(line, nodes.Closed):
        return "closed " + ", ".join(d.value for d in line.dates)
    days = ", ".join(d.written for d in line.days)
    return days + " " + ", ".join(r.written for r in line.ranges)


def _duration(value: Duration) -> str:
    return f"{value.amount}{value.unit}"


def _terminator(value: nodes.Str | nodes.NoKey | None) -> str | None:
    if isinstance(value, nodes.NoKey):
        return "none"
    return render_str(value) if value else None


def _precedence(expr: Expr) -> int:
    if isinstance(expr, BinOp):
        return nodes.BINARY_PRECEDENCE[expr.op]
    if isinstance(expr, Not):
        return nodes.NOT_PRECEDENCE
    return _ATOM_PRECEDENCE


def _comparison(precedence: int) -> bool:
    return precedence == nodes.BINARY_PRECEDENCE["=="]


def _operand(expr: Expr, parens: bool) -> str:
    text = render_expr(expr)
    return f"({text})" if parens else text


def render_expr(expr: Expr) -> str:
    """The expression with only the parentheses needed to read back as the same tree."""
    if isinstance(expr, Str):
        return render_str(expr)
    if isinstance(expr, Bool):
        return "true" if expr.value else "false"
    if isinstance(expr, Int):
        return str(expr.value)
    if isinstance(expr, Var):
        return expr.dotted
    if isinstance(expr, ListExpr):
        return "[" + ", ".join(render_expr(item) for item in expr.items) + "]"
    if isinstance(expr, nodes.OpenTest):
        return f"open {expr.name.value}"
    if isinstance(expr, Not):
        return "not " + _operand(expr.operand, _precedence(expr.operand) < nodes.NOT_PRECEDENCE)
    mine = nodes.BINARY_PRECEDENCE[expr.op]
    left, right = _precedence(expr.left), _precedence(expr.right)
    # `and`/`or` group to the left, so a right operand of the same strength needs parentheses;
    # comparisons do not chain, so a comparison inside a comparison always does.
    left_parens = left < mine or (left == mine and _comparison(mine))
    right_parens = right <= mine
    return f"{_operand(expr.left, left_parens)} {expr.op} {_operand(expr.right, right_parens)}"


# ---------------------------------------------------------------------------------------------
# Where comments go
#
# Every line-starting construct of the tree is an "item" (a setting, a step header, a statement,
# a handler, a prompt line, `else:`...), and every block that holds items is a "container".
# A comment is attached to one of them: at the end of an item's line (EOL), on its own line before
# an item (BEFORE), or at the end of a container (END) when it is indented under a block that
# closes right after it. Items are matched to comments by their source positions.

Key = int | tuple[str, int]
_FILE: Key = ("file", 0)
# Comments above the first item of the file: its header, which stays on top even when the
# formatter reorders the settings.
_HEADER: Key = ("header", 0)


def _else_key(node: If) -> Key:
    return ("else", id(node))


def _else_body(node: If) -> Key:
    return ("else-body", id(node))


def _body(node: nodes.Node) -> Key:
    return ("body", id(node))


@frozen
class _Item:
    key: Key
    line: int
    column: int
    containers: tuple[Key, ...]  # innermost first


@define
class _Placement:
    eol: dict[Key, list[Comment]] = field(factory=dict)
    before: dict[Key, list[Comment]] = field(factory=dict)
    end: dict[Key, list[Comment]] = field(factory=dict)

    def add(self, table: dict[Key, list[Comment]], key: Key, comment: Comment) -> None:
        table.setdefault(key, []).append(comment)


@define
class _PendingElse:
    node: If
    column: int
    after_line: int  # the last line of the arm before `else:`
    first_line: int  # the first line of the else body
    containers: tuple[Key, ...]


@define
class _ItemCollector:
    """Walks the tree in source order, listing items (with their containers) that have spans."""

    items: list[_Item] = field(factory=list)
    elses: list[_PendingElse] = field(factory=list)

    def item(
        self, key: Key, node: nodes.Node | None, containers: tuple[Key, ...], shift: int = 0
    ) -> None:
        span = node.span if node is not None else None
        if span is not None:
            self.items.append(_Item(key, span.line, max(1, span.column - shift), containers))

    def flow(self, flow: Flow) -> None:
        top = (_FILE,)
        for include in flow.includes:
            self.item(id(include), include, top)
        for setting in flow.settings:
            self.item(id(setting), setting, top)
        for name in flow.inputs:
            self.item(id(name), name, top, shift=len("input "))
        if flow.languages is not None:
            self.item(id(flow.languages), flow.languages, top)
            inner = (_body(flow.languages), *top)
            for spoken in flow.languages.spoken:
                self.item(id(spoken), spoken, inner)
        for hours in flow.hours:
            self.item(id(hours), hours, top)
            for line in hours.lines:
                self.item(id(line), line, (_body(hours), *top))
        for step in flow.steps:
            self.item(id(step), step.name if step.span is None else step, top)
            self.block(step.body, (_body(step), *top))
        if flow.on_hangup is not None:
            self.handler(flow.on_hangup, top)

    def block(self, body: Sequence[Stmt], containers: tuple[Key, ...]) -> None:
        for stmt in body:
            self.statement(stmt, containers)

    def statement(self, stmt: Stmt, containers: tuple[Key, ...]) -> None:
        self.item(id(stmt), stmt, containers)
        if isinstance(stmt, If):
            self.if_(stmt, containers)
        elif isinstance(stmt, Gather):
            inner = (_body(stmt), *containers)
            for prompt in stmt.prompt:
                self.item(id(prompt), prompt, inner)
            for reprompt in stmt.reprompts:
                self.item(id(reprompt), reprompt, inner)
            for on in stmt.handlers:
                self.handler(on, inner)
        elif isinstance(stmt, AiGather):
            inner = (_body(stmt), *containers)
            self.item(id(stmt.greeting), stmt.greeting, inner, shift=len("greeting "))
            for f in stmt.fields:
                self.item(id(f), f, inner)
            for on in stmt.handlers:
                self.handler(on, inner)
        elif isinstance(stmt, (Transfer, Record, Queue, Detect)):
            inner = (_body(stmt), *containers)
            if isinstance(stmt, Queue):
                self.item(id(stmt.music), stmt.music, inner)
            for on in stmt.handlers:
                self.handler(on, inner)
        elif isinstance(stmt, Fetch):
            inner = (_body(stmt), *containers)
            for item in (*stmt.headers, *stmt.sends):
                self.item(id(item), item, inner)
            for on in stmt.handlers:
                self.handler(on, inner)
        elif isinstance(stmt, Assistant):
            inner = (_body(stmt), *containers)
            if stmt.voice_in_block:
                self.item(id(stmt.voice), stmt.voice, inner, shift=len("voice "))
            self.item(id(stmt.instructions), stmt.instructions, inner, shift=len("instructions "))
            self.item(id(stmt.greeting), stmt.greeting, inner, shift=len("greeting "))
            for message in stmt.messages:
                self.item(id(message), message, inner)
            for on in stmt.handlers:
                self.handler(on, inner)

    def handler(self, on: On, containers: tuple[Key, ...]) -> None:
        self.item(id(on), on, containers)
        self.block(on.body, (_body(on), *containers))

    def if_(self, stmt: If, containers: tuple[Key, ...]) -> None:
        self.block(stmt.body, (_body(stmt), *containers))
        previous: Sequence[Stmt] = stmt.body
        for arm in stmt.elifs:
            self.item(id(arm), arm, containers)
            self.block(arm.body, (_body(arm), *containers))
            previous = arm.body
        if stmt.else_ is None:
            return
        first = self.first_line(stmt.else_)
        last = self.last_line(previous)
        if stmt.span is not None and first is not None and last is not None:
            self.elses.append(_PendingElse(stmt, stmt.span.column, last, first, containers))
        self.block(stmt.else_, (_else_body(stmt), *containers))

    @staticmethod
    def first_line(body: Sequence[Stmt]) -> int | None:
        return body[0].span.line if body and body[0].span is not None else None

    @staticmethod
    def last_line(body: Sequence[Stmt]) -> int | None:
        lines = [n.span.line for s in body for n in nodes.walk(s) if n.span is not None]
        return max(lines, default=None)


def _else_line(
    pending: _PendingElse, comments: Sequence[Comment], lines: Sequence[str] | None
) -> int:
    """The source line of `else:`, which has no node of its own.

    With the source text it is the line between the two arms that starts with `else`. Without
    it, it is guessed from the comments in between: the first line that holds none, or else the
    first whose comment stands two spaces after `else:` (where fmt writes it), or else the first
    whose comment stands far enough right to follow `else:` on its line.
    """
    gap = range(pending.after_line + 1, pending.first_line)
    if lines is not None:
        for number in gap:
            words = lines[number - 1].split(":")[0].split() if number <= len(lines) else []
            if words == ["else"]:
                return number
    by_line = {c.span.line: c.span.column for c in comments if c.span is not None}
    outdented = [line for line in gap if line in by_line and by_line[line] <= pending.column]
    start = max(outdented, default=pending.after_line) + 1
    free = [line for line in gap if line >= start and line not in by_line]
    if free:
        return free[0]
    after_keyword = pending.column + len("else:")
    # In formatted text a comment after `else:` stands exactly two spaces after it, a column no
    # comment on a line of its own reaches (those are indented by whole levels of 4 spaces).
    exact = [line for line in gap if line >= start and by_line[line] == after_keyword + 2]
    if exact:
        return exact[0]
    trailing = [line for line in gap if by_line[line] >= after_keyword]
    return trailing[0] if trailing else start


def _own_line(comment: Comment, lines: Sequence[str] | None) -> bool | None:
    """Whether the comment is alone on its line (None when there is no text to tell)."""
    if lines is None or comment.span is None or comment.span.line > len(lines):
        return None
    return not lines[comment.span.line - 1][: comment.span.column - 1].strip()


def _place(flow: Flow, lines: Sequence[str] | None) -> _Placement:
    """Attach every comment that has a position to an item or a container."""
    collector = _ItemCollector()
    collector.flow(flow)
    located = sorted(
        (c for c in flow.comments if c.span is not None),
        key=lambda c: (c.span.line, c.span.column) if c.span else (0, 0),
    )
    items = list(collector.items)
    for pending in collector.elses:
        line = _else_line(pending, located, lines)
        items.append(_Item(_else_key(pending.node), line, pending.column, pending.containers))
    items.sort(key=lambda i: (i.line, i.column))
    starts = [i.line for i in items]
    body_column: dict[Key, int] = {}
    for item in items:
        for container in item.containers[:1]:
            body_column.setdefault(container, item.column)

    placement = _Placement()
    for comment in located:
        assert comment.span is not None
        line, column = comment.span.line, comment.span.column
        first_on, first_after = bisect.bisect_left(starts, line), bisect.bisect_right(starts, line)
        same_line = [i for i in items[first_on:first_after] if i.column < column]
        if same_line and _own_line(comment, lines) is not True:
            placement.add(placement.eol, same_line[-1].key, comment)
            continue
        prev = items[first_on - 1] if first_on > 0 else None
        nxt = items[first_after] if first_after < len(items) else None
        target = _closing_container(prev, nxt, column, body_column)
        if prev is None:
            placement.add(placement.before, _HEADER, comment)
        elif target is not None:
            placement.add(placement.end, target, comment)
        elif nxt is not None:
            placement.add(placement.before, nxt.key, comment)
        else:
            placement.add(placement.end, _FILE, comment)
    return placement


def _closing_container(
    prev: _Item | None, nxt: _Item | None, column: int, body_column: dict[Key, int]
) -> Key | None:
    """The innermost block that ends between `prev` and `nxt` and the comment is indented under."""
    if prev is None:
        return None
    still_open = set(nxt.containers) if nxt is not None else set()
    for container in prev.containers:
        if container in still_open:
            return None
        if body_column.get(container, 1) <= column:
            return container
    return None


# ---------------------------------------------------------------------------------------------
# Rendering


@define
class _Writer:
    placement: _Placement
    source_lines: Sequence[str] | None = None
    lines: list[str] = field(factory=list)
    emitted: set[int] = field(factory=set)

    def comments(self, found: Iterable[Comment], depth: int) -> None:
        for comment in found:
            self.lines.append(INDENT * depth + comment.text.rstrip())
            self.emitted.add(id(comment))

    def line(self, depth: int, text: str, key: Key, tail: Key | None = None) -> None:
        """One item's line: comments standing before it, then the text with end-of-line ones."""
        self.comments(self.placement.before.get(key, ()), depth)
        trailing = list(self.placement.eol.get(key, ()))
        if tail is not None:
            trailing += self.placement.eol.get(tail, ())
        for comment in trailing:
            text += "  " + comment.text.rstrip()
            self.emitted.add(id(comment))
        self.lines.append(INDENT * depth + text)

    def end(self, key: Key, depth: int) -> None:
        self.comments(self.placement.end.get(key, ()), depth)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    # The file -------------------------------------------------------------------------------

    def flow(self, flow: Flow) -> None:
        self.comments(self.placement.before.get(_HEADER, ()), 0)
        for include in flow.includes:
            self.line(0, f"include {render_str(include.path)}", id(include))
        settings = sorted(flow.settings, key=lambda s: _SETTING_ORDER.get(s.name, 2))
        for setting in settings:
            word = "outbound from" if setting.name == "outbound" else setting.name
            self.line(0, f"{word} {render_str(setting.value)}", id(setting))
        if flow.languages is not None:
            self.line(0, "languages:", id(flow.languages))
            for spoken in flow.languages.spoken:
                voice = f" voice {render_str(spoken.voice)}" if spoken.voice is not None else ""
                self.line(1, f"{render_str(spoken.language)}{voice}", id(spoken))
            self.end(_body(flow.languages), 1)
        for name in flow.inputs:
            self.line(0, f"input {name.value}", id(name))
        for hours in flow.hours:
            self.blank()
            self.line(0, f"hours {hours.name.value}:", id(hours))
            for line in hours.lines:
                self.line(1, render_hours_line(line), id(line))
            self.end(_body(hours), 1)
        for step in flow.steps:
            self.blank()
            self.line(0, f"{step.name.value}:", id(step))
            self.block(step.body, 1, _body(step))
        if flow.on_hangup is not None:
            self.blank()
            self.handler(flow.on_hangup, 0)
        if self.placement.end.get(_FILE):
            self.blank()
            self.end(_FILE, 0)

    def block(self, body: Sequence[Stmt], depth: int, key: Key) -> None:
        for index, stmt in enumerate(body):
            if index and self.spaced(stmt):
                self.blank()
            self.statement(stmt, depth)
        self.end(key, depth)

    def spaced(self, stmt: Stmt) -> bool:
        """Whether the author left a blank line above `stmt` (or above its comments).

        People group the statements of a step with blank lines; like black and gofmt, the
        formatter keeps such a gap (several blank lines become one) rather than packing them.
        """
        if self.source_lines is None or stmt.span is None:
            return False
        top = stmt.span.line
        for comment in self.placement.before.get(id(stmt), ()):
            if comment.span is not None:
                top = min(top, comment.span.line)
        return top >= 2 and not self.source_lines[top - 2].strip()

    # Statements ------------------------------------------------------------------------------

    def statement(self, stmt: Stmt, depth: int) -> None:
        if isinstance(stmt, If):
            self.if_(stmt, depth)
        elif isinstance(stmt, Gather):
            self.gather(stmt, depth)
        elif isinstance(stmt, AiGather):
            self.ai_gather(stmt, depth)
        elif isinstance(stmt, Assistant):
            self.assistant(stmt, depth)
        elif isinstance(stmt, Fetch) and stmt.is_block:
            self.fetch(stmt, depth)
        elif isinstance(stmt, (Transfer, Record, Queue)) and not is_simple(stmt):
            self.with_block(stmt, depth)
        elif isinstance(stmt, Detect):
            self.line(depth, "detect machine:", id(stmt))
            self.handlers(stmt.handlers, depth + 1)
            self.end(_body(stmt), depth + 1)
        else:
            self.line(depth, simple_statement(stmt), id(stmt))

    def if_(self, stmt: If, depth: int) -> None:
        self.line(depth, f"if {render_expr(stmt.cond)}:", id(stmt))
        self.block(stmt.body, depth + 1, _body(stmt))
        for arm in stmt.elifs:
            self.elif_(arm, depth)
        if stmt.else_ is not None:
            self.line(depth, "else:", _else_key(stmt))
            self.block(stmt.else_, depth + 1, _else_body(stmt))

    def elif_(self, arm: Elif, depth: int) -> None:
        self.line(depth, f"elif {render_expr(arm.cond)}:", id(arm))
        self.block(arm.body, depth + 1, _body(arm))

    def gather(self, stmt: Gather, depth: int) -> None:
        self.line(depth, _header("gather", _gather_options(stmt)), id(stmt))
        inner = depth + 1
        for prompt in stmt.prompt:
            self.line(inner, simple_statement(prompt), id(prompt))
        for reprompt in stmt.reprompts:
            word = "reprompt" if reprompt.outcome is None else f"reprompt {reprompt.outcome}"
            self.line(inner, f"{word} {render_str(reprompt.text)}", id(reprompt))
        self.handlers(stmt.handlers, inner)
        self.end(_body(stmt), inner)

    def ai_gather(self, stmt: AiGather, depth: int) -> None:
        options = [
            ("into", stmt.into.value if stmt.into else None),
            ("voice", render_str(stmt.voice) if stmt.voice else None),
            ("language", render_str(stmt.language) if stmt.language else None),
            ("timeout", _duration(stmt.timeout) if stmt.timeout else None),
        ]
        self.line(depth, _header("ai_gather", _ordered(options, nodes.AI_GATHER_OPTIONS)), id(stmt))
        inner = depth + 1
        if stmt.greeting is not None:
            self.line(inner, f"greeting {render_str(stmt.greeting)}", id(stmt.greeting))
        for f in stmt.fields:
            text = f"field {f.name.value} {f.type.value} {render_str(f.description)}"
            self.line(inner, text + (" optional" if f.optional else ""), id(f))
        self.handlers(stmt.handlers, inner)
        self.end(_body(stmt), inner)

    def assistant(self, stmt: Assistant, depth: int) -> None:
        if not _assistant_block(stmt):
            self.line(depth, _assistant_head(stmt), id(stmt))  # the one-line form
            return
        self.line(depth, _assistant_head(stmt) + ":", id(stmt))
        inner = depth + 1
        if stmt.voice is not None and stmt.voice_in_block:
            self.line(inner, f"voice {render_str(stmt.voice)}", id(stmt.voice))
        if stmt.instructions is not None:
            text = f"instructions {render_str(stmt.instructions)}"
            self.line(inner, text, id(stmt.instructions))
        if stmt.greeting is not None:
            self.line(inner, f"greeting {render_str(stmt.greeting)}", id(stmt.greeting))
        for message in stmt.messages:
            said = render_str(message.text)
            if message.tool_call_id is not None:
                said = f"{render_str(message.tool_call_id)} {said}"
            text = f"message {message.role.value} {said}"
            self.line(inner, text, id(message))
        self.handlers(stmt.handlers, inner)
        self.end(_body(stmt), inner)

    def fetch(self, stmt: Fetch, depth: int) -> None:
        self.line(depth, _fetch_head(stmt) + ":", id(stmt))
        inner = depth + 1
        for header in stmt.headers:
            secret = "secret " if header.secret else ""
            text = f"header {render_str(header.name)} {secret}{render_str(header.value)}"
            self.line(inner, text, id(header))
        for field_ in stmt.sends:
            self.line(inner, f"send {field_.name.value} = {render_expr(field_.value)}", id(field_))
        self.handlers(stmt.handlers, inner)
        self.end(_body(stmt), inner)

    def with_block(self, stmt: Transfer | Record | Queue, depth: int) -> None:
        self.line(depth, simple_statement(stmt) + ":", id(stmt))
        inner = depth + 1
        if isinstance(stmt, Queue) and stmt.music is not None:
            self.line(inner, simple_statement(stmt.music), id(stmt.music))
        self.handlers(stmt.handlers, inner)
        self.end(_body(stmt), inner)

    # Handlers --------------------------------------------------------------------------------

    def handlers(self, handlers: Iterable[On], depth: int) -> None:
        for on in handlers:
            self.handler(on, depth)

    def handler(self, on: On, depth: int) -> None:
        head = _handler_head(on)
        if self.fits_one_line(on):
            only = on.body[0]
            self.line(depth, f"{head}: {simple_statement(only)}", id(on), tail=id(only))
            return
        self.line(depth, f"{head}:", id(on))
        self.block(on.body, depth + 1, _body(on))

    def fits_one_line(self, on: On) -> bool:
        """One simple statement, and no comment that needs the block form to keep its place."""
        if len(on.body) != 1 or not is_simple(on.body[0]):
            return False
        if isinstance(on.body[0], Fetch) and on.body[0].is_block:
            return False
        p = self.placement
        return not (p.eol.get(id(on)) or p.before.get(id(on.body[0])) or p.end.get(_body(on)))


def is_simple(stmt: Stmt) -> bool:
    """Whether `stmt` is written on one line (a `transfer`, `record`, `queue` or `assistant`
    without a block)."""
    if isinstance(stmt, (Transfer, Record)):
        return not stmt.handlers
    if isinstance(stmt, Queue):
        return not stmt.handlers and stmt.music is None
    if isinstance(stmt, Assistant):
        return not _assistant_block(stmt)
    return isinstance(stmt, SIMPLE_STATEMENTS)


def _assistant_block(stmt: Assistant) -> bool:
    """Whether an assistant has lines of a block (else it is the one-line form)."""
    return bool(stmt.voice_in_block or stmt.instructions or stmt.greeting or stmt.messages
                or stmt.handlers)


def _assistant_head(stmt: Assistant) -> str:
    options = [
        ("id", render_str(stmt.id) if stmt.id else None),
        ("voice", render_str(stmt.voice) if stmt.voice and not stmt.voice_in_block else None),
    ]
    return " ".join(["assistant", *_ordered(options, nodes.ASSISTANT_OPTIONS)])


def _handler_head(on: On) -> str:
    values = ", ".join(render_str(v) for v in on.values)
    return f"on {on.event} {values}" if values else f"on {on.event}"


def _header(keyword: str, options: Sequence[str]) -> str:
    return " ".join([keyword, *options]) + ":"


def _ordered(options: Sequence[tuple[str, str | None]], order: Sequence[str]) -> list[str]:
    given = {name: text for name, text in options if text is not None}
    return [f"{name} {given[name]}" for name in order if name in given]


def _gather_options(stmt: Gather) -> list[str]:
    digits: str | None = None
    if isinstance(stmt.digits, DigitRange):
        digits = f"{stmt.digits.low.value}..{stmt.digits.high.value}"
    elif isinstance(stmt.digits, Int):
        digits = str(stmt.digits.value)
    options = [
        ("digits", digits),
        ("timeout", _duration(stmt.timeout) if stmt.timeout else None),
        (
            "inter_digit_timeout",
            _duration(stmt.inter_digit_timeout) if stmt.inter_digit_timeout else None,
        ),
        ("initial_timeout", _duration(stmt.initial_timeout) if stmt.initial_timeout else None),
        ("terminator", _terminator(stmt.terminator)),
        ("valid", render_str(stmt.valid) if stmt.valid else None),
        ("tries", str(stmt.tries.value) if stmt.tries else None),
        ("into", stmt.into.value if stmt.into else None),
        ("voice", render_str(stmt.voice) if stmt.voice else None),
        ("language", render_str(stmt.language) if stmt.language else None),
    ]
    return _ordered(options, nodes.GATHER_OPTIONS)


def _fetch_head(stmt: Fetch) -> str:
    options = [
        ("method", render_str(stmt.method) if stmt.method else None),
        ("into", stmt.into.value if stmt.into else None),
        ("timeout", _duration(stmt.timeout) if stmt.timeout else None),
    ]
    return " ".join(["fetch", render_str(stmt.url), *_ordered(options, nodes.FETCH_OPTIONS)])


def simple_statement(stmt: Stmt) -> str:
    """One line for a statement that holds no block (`say`, `goto`, `set`...); for a `transfer`,
    `record` or `queue` with a block, its header line without the `:`."""
    if isinstance(stmt, Answer):
        return "answer"
    if isinstance(stmt, Hangup):
        return "hangup"
    if isinstance(stmt, Say):
        text = f"say {render_str(stmt.text)}"
        if stmt.voice is not None:
            text += f" voice {render_str(stmt.voice)}"
        if stmt.language is not None:
            text += f" language {render_str(stmt.language)}"
        return text + (" ssml" if stmt.ssml else "")
    if isinstance(stmt, Play):
        keyword = "play media" if stmt.media else "play"
        return f"{keyword} {render_str(stmt.source)}"
    if isinstance(stmt, Transfer):
        text = f"transfer {render_str(stmt.to)}"
        if stmt.from_ is not None:
            text += f" from {render_str(stmt.from_)}"
        if stmt.timeout is not None:
            text += f" timeout {_duration(stmt.timeout)}"
        return text
    if isinstance(stmt, Sms):
        text = f"sms {render_str(stmt.to)} {render_str(stmt.text)}"
        return text + (f" from {render_str(stmt.from_)}" if stmt.from_ is not None else "")
    if isinstance(stmt, Record):
        options = [
            ("into", stmt.into.value if stmt.into else None),
            ("max", _duration(stmt.max) if stmt.max else None),
            ("silence", _duration(stmt.silence) if stmt.silence else None),
            ("end_key", render_str(stmt.end_key) if stmt.end_key else None),
        ]
        words = _ordered(options, nodes.RECORD_OPTIONS)
        if stmt.beep:
            words.insert(sum(1 for _, v in options[:3] if v is not None), "beep")
        return " ".join(["record", *words])
    if isinstance(stmt, Queue):
        text = f"queue {render_str(stmt.name)}"
        return text + (f" max_wait {_duration(stmt.max_wait)}" if stmt.max_wait else "")
    if isinstance(stmt, WaitBeep):
        return "wait for beep"
    if isinstance(stmt, Assistant):
        return _assistant_head(stmt)
    if isinstance(stmt, TryAgain):
        return "try again"
    if isinstance(stmt, Goto):
        return f"goto {stmt.target.value}"
    if isinstance(stmt, Call):
        return f"call {stmt.target.value}"
    if isinstance(stmt, Return):
        return "return"
    if isinstance(stmt, Set):
        return f"set {stmt.name.value} = {render_expr(stmt.value)}"
    if isinstance(stmt, Log):
        return f"log {render_str(stmt.text)}"
    if isinstance(stmt, Fetch) and not stmt.is_block:
        return _fetch_head(stmt)
    raise TypeError(f"{type(stmt).__name__} is a block, not a simple statement")


# ---------------------------------------------------------------------------------------------
# Entry points


def format_flow(flow: Flow, source: Source | str | None = None) -> str:
    """The canonical text of `flow`, with each of `flow.comments` written once, where it stood.

    `source` (the text the flow was parsed from) is optional: with it, comments are placed
    exactly; without it, from their positions alone, which is exact on formatted text.
    """
    text = source.text if isinstance(source, Source) else source
    lines = None if text is None else text.replace("\r\n", "\n").split("\n")
    writer = _Writer(_place(flow, lines), lines)
    writer.flow(flow)
    # A comment the tree gives no position for (a hand-built tree) is still never dropped.
    leftover = [c for c in flow.comments if id(c) not in writer.emitted]
    if leftover:
        writer.blank()
        writer.comments(leftover, 0)
    return "\n".join(writer.lines) + "\n"


def format_text(text: str, name: str = "<string>") -> str:
    """Parse `text` and return it formatted; raises FlowSyntaxError when it does not parse."""
    from flowlang.syntax.parser import parse_source

    source = Source(name, text)
    return format_flow(parse_source(source), source)
