"""Rules about what the caller hears (FL4xx): prompts, voices, languages, SSML, audio URLs."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.gather import branches, gathers, has_catch_all, terminator_key
from flowlang.lint.registry import Finding, rule
from flowlang.lint.telnyx_data import PAYLOAD_MAX_CHARS, RECOGNITION_LANGUAGES, SPEAK_LANGUAGES
from flowlang.source import LINE_BLOCK, Span
from flowlang.syntax import nodes


@rule("FL401", "mixed-prompt", Severity.ERROR, local=True)
def mixed_prompt(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a gather's prompt is either `say` lines or exactly one `play` line, and that
    its `say` lines agree on `voice` and `language` (with each other, and with the gather's
    own `voice` and `language`).

    ## Why is this bad?
    Telnyx gathers with either speech (`gather_using_speak`) or one audio file
    (`gather_using_audio`), never both, and plays only one file per try. The `say` lines are
    joined into one text spoken in one voice and one language: a line that names another
    voice or language would not get it.

    ## Example
    ```
    gather:
        play "https://example.com/welcome.mp3"
        say "Press 1 for sales."
    ```

    ## Use instead
    Play the file first, then gather with speech:
    ```
    play "https://example.com/welcome.mp3"
    gather:
        say "Press 1 for sales."
    ```
    """
    for gather in gathers(ctx):
        plays = [p for p in gather.prompt if isinstance(p, nodes.Play)]
        says = [p for p in gather.prompt if isinstance(p, nodes.Say)]
        if plays and says:
            yield Finding(
                plays[0].span,
                "this gather's prompt mixes `say` and `play`",
                label="cannot go with the `say` lines",
                help="keep one kind: `say` lines, or one `play`; move the other before the gather",
            )
        elif len(plays) > 1:
            yield Finding(
                plays[1].span,
                "this gather's prompt has more than one `play`",
                label="second `play`",
                help="a gather plays one file per try: move the others before the gather",
            )
        yield from _disagreeing_says(gather, says)


def _disagreeing_says(gather: nodes.Gather, says: list[nodes.Say]) -> Iterator[Finding]:
    """`say` lines of one prompt that ask for a voice or language the speech cannot have."""
    for option in ("voice", "language"):
        own: nodes.Str | None = getattr(gather, option)
        values = [getattr(s, option) for s in says]
        texts = [v.text if v is not None else None for v in values]
        for value, text in zip(values, texts, strict=True):
            if own is not None:
                if value is None or text == own.text:
                    continue
                message = f'this `say` asks for {option} "{text}", but the gather speaks with '
                message += f'{option} "{own.text}"'
            elif value is None or text == texts[0]:
                continue  # a line that names none is spoken like the first: nothing is lost
            else:
                first = f'{option} "{texts[0]}"' if texts[0] is not None else f"the file's {option}"
                message = f"this prompt line's {option} differs from the first line's ({first})"
            yield Finding(
                value.span,
                message,
                label=f"another {option}",
                help=f"a gather's prompt is spoken as one text in one {option}: set `{option}` "
                "on the gather line, or move this `say` before the gather",
            )
            break


def _length(text: nodes.Str) -> int:
    return sum(len(p) for p in text.parts if isinstance(p, str))


def _spoken(ctx: Context) -> Iterator[tuple[nodes.Node, int, str]]:
    """Everything sent as one speech payload: (where, literal length, what it is)."""
    for stmt in ctx.of_type(nodes.Say):
        assert isinstance(stmt, nodes.Say)
        yield stmt, _length(stmt.text), "`say` text"
    for gather in gathers(ctx):
        says = [p for p in gather.prompt if isinstance(p, nodes.Say)]
        total = sum(_length(s.text) for s in says) + max(0, len(says) - 1)
        if says:
            yield gather, total, "gather prompt"
        for reprompt in gather.reprompts:
            extra = _length(reprompt.text) + (1 if says else 0)
            yield reprompt, total + extra, "gather prompt with its reprompt"


@rule("FL402", "payload-too-long", Severity.ERROR, local=True)
def payload_too_long(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that text spoken in one go (a `say`, or a gather's prompt lines joined together,
    with the `reprompt` in front on later tries) fits Telnyx's 3,000-character limit.
    Text filled in from `{variables}` is not counted, so the real payload may be longer.

    ## Why is this bad?
    Telnyx rejects a longer payload and the caller hears nothing.

    ## Example
    A `say` with a 4,000-character script.

    ## Use instead
    Split it into several `say` lines (each is sent on its own).
    """
    for where, length, what in _spoken(ctx):
        if where.span is None or length <= PAYLOAD_MAX_CHARS:
            continue
        span = where.span
        if isinstance(where, nodes.Gather):
            span = Span.point(span.line, span.column, len("gather"))
        yield Finding(
            span,
            f"this {what} is {length} characters long; Telnyx speaks at most "
            f"{PAYLOAD_MAX_CHARS:,} at once",
            label="too long",
            help="shorten it, or split it over several `say` lines",
        )


def _empty_voices(ctx: Context) -> Iterator[Finding]:
    voices = [ctx.flow.setting("voice")]
    for stmt in ctx.of_type(nodes.Say, nodes.Gather, nodes.AiGather, nodes.Assistant):
        assert isinstance(stmt, nodes.Say | nodes.Gather | nodes.AiGather | nodes.Assistant)
        voices.append(stmt.voice)
    for voice in voices:
        if voice is not None and not voice.interpolations and not voice.text.strip():
            yield Finding(
                voice.span,
                '`voice ""` is empty: Telnyx needs a voice to speak',
                label="no voice",
                help='name a voice, like `voice "Telnyx.KokoroTTS.af"`',
            )


@rule("FL403", "missing-voice", Severity.ERROR)
def missing_voice(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every `say` (and every gather that speaks) has a voice: its own `voice "..."`,
    the gather's, or the file's `voice` setting. An empty `voice ""` is no voice.

    ## Why is this bad?
    Telnyx requires a voice for speech; without one the command is rejected.

    ## Example
    ```
    main:
        answer
        say "Hello."
    ```

    ## Use instead
    ```
    voice "Telnyx.KokoroTTS.af"

    main:
        answer
        say "Hello."
    ```
    """
    yield from _empty_voices(ctx)
    if ctx.flow.setting("voice") is not None:
        return
    in_gathers: set[int] = set()
    for gather in gathers(ctx):
        says = [p for p in gather.prompt if isinstance(p, nodes.Say)]
        in_gathers.update(id(s) for s in says)
        # The reprompt is only spoken on a second try: never with `tries 1`.
        reprompts = bool(gather.reprompts) and (gather.tries is None or gather.tries.value > 1)
        speaks = bool(says) or reprompts
        if not speaks or gather.voice is not None:
            continue
        if says and all(s.voice is not None for s in says) and not reprompts:
            continue
        where: nodes.Node = says[0] if says else gather.reprompts[0]
        yield Finding(
            where.span,
            "this gather speaks but has no voice",
            label="no voice",
            help=f'add `voice "..."` to the gather, or a `voice "..."` line {_top(where)}',
        )
    for stmt in ctx.of_type(nodes.Say):
        assert isinstance(stmt, nodes.Say)
        if stmt.voice is None and id(stmt) not in in_gathers:
            yield Finding(
                stmt.span,
                "this `say` has no voice",
                label="no voice",
                help=f'add `voice "Telnyx.KokoroTTS.af"` (or another) {_top(stmt)}, '
                "or to this line",
            )


def _top(node: nodes.Node) -> str:
    """Where the file's settings go, for a finding at `node`: an included file's own settings
    serve it only when it runs by itself, so there it is the including flow's top."""
    if node.span is not None and node.span.line > LINE_BLOCK:
        return (
            "at the top of the flow that includes this file (an included file's own settings "
            "do not come in)"
        )
    return "at the top of the file"


def _languages(ctx: Context) -> Iterator[tuple[nodes.Str, bool]]:
    """Every `language` written, and whether it is an ai_gather's own (a recognition language)."""
    setting = ctx.flow.setting("language")
    if setting is not None:
        yield setting, False
    for stmt in ctx.of_type(nodes.Say, nodes.Gather, nodes.AiGather):
        assert isinstance(stmt, nodes.Say | nodes.Gather | nodes.AiGather)
        if stmt.language is not None:
            yield stmt.language, isinstance(stmt, nodes.AiGather)


@rule("FL404", "unknown-language", Severity.ERROR)
def unknown_language(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every `language` (the file setting, a `say`'s, a gather's, an ai_gather's) is
    one Telnyx's speech accepts, such as `en-US`, `en-GB`, `de-DE`, `fr-FR` or `es-MX`. An
    ai_gather may also name the speech-recognition code Telnyx takes there, such as `en` or `de`;
    its language is written out, not read from a variable (`{...}`).

    ## Why is this bad?
    Telnyx rejects speech in a language it does not know.

    ## Example
    ```
    language "english"
    ```

    ## Use instead
    ```
    language "en-US"
    ```
    """
    # gather_using_ai itself takes recognition codes (`en`, `de`); an ai_gather may name one
    # directly as well as a speak language (`en-US`), which is sent as its recognition code.
    by_lower = {code.lower(): code for code in SPEAK_LANGUAGES}
    for value, recognition in _languages(ctx):
        text = value.text
        if recognition and value.interpolations:
            # Turned into its recognition code when the flow is read, so it is never filled in.
            yield Finding(
                value.span,
                "an ai_gather's `language` is read as written: a `{...}` in it is not filled in",
                label="written out only",
                help='write the language out, like `language "de-DE"`; to speak another '
                "language during a call, list it in a `languages:` block and "
                '`set language = "..."`',
            )
            continue
        if value.interpolations or text in SPEAK_LANGUAGES:
            continue
        if recognition and text in RECOGNITION_LANGUAGES:
            continue
        guess = by_lower.get(text.lower()) or next(
            iter(difflib.get_close_matches(text, SPEAK_LANGUAGES, n=1, cutoff=0.6)), None
        )
        fix = (
            f"did you mean `{guess}`?"
            if guess
            else "use a code like `en-US` (all of them are listed below)"
        )
        yield Finding(
            value.span,
            f'language "{text}" is not one Telnyx speaks',
            label="unknown language",
            help=fix,
            notes=("Telnyx speaks: " + ", ".join(SPEAK_LANGUAGES),),
        )


@rule("FL405", "invalid-ssml", Severity.ERROR, local=True)
def invalid_ssml(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that the text of a `say` marked `ssml` is well-formed XML (SSML).

    ## Why is this bad?
    Telnyx cannot read broken SSML: the speech fails, or the tags are read out loud.

    ## Example
    ```
    say "<speak>Hello <break time='1s'></speak>" ssml
    ```

    ## Use instead
    ```
    say "<speak>Hello <break time='1s'/></speak>" ssml
    ```
    """
    import xml.etree.ElementTree as ElementTree

    for stmt in ctx.of_type(nodes.Say):
        assert isinstance(stmt, nodes.Say)
        if not stmt.ssml:
            continue
        text = "".join(p if isinstance(p, str) else "x" for p in stmt.text.parts)
        try:
            ElementTree.fromstring(text)
        except ElementTree.ParseError as exc:
            reason = str(exc).split(":")[0]
            yield Finding(
                stmt.text.span or stmt.span,
                f"this SSML is not well-formed XML ({reason})",
                label="broken SSML",
                help="close every tag (`<break/>`), quote attributes, wrap it all in "
                "`<speak>...</speak>`",
            )


@rule("FL406", "play-url-scheme", Severity.ERROR, local=True)
def play_url_scheme(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that `play "URL"` names an `http://` or `https://` address.

    ## Why is this bad?
    Telnyx fetches the audio over the web; a file path or other address cannot be played.
    Files uploaded to Telnyx are played with `play media "NAME"`.

    ## Example
    ```
    play "welcome.mp3"
    ```

    ## Use instead
    ```
    play "https://example.com/welcome.mp3"
    ```
    or, for a file uploaded to Telnyx's media storage:
    ```
    play media "welcome"
    ```
    """
    for stmt in ctx.of_type(nodes.Play, nodes.Gather):
        plays = stmt.prompt if isinstance(stmt, nodes.Gather) else (stmt,)
        for play in plays:
            if not isinstance(play, nodes.Play) or play.media:
                continue
            first = play.source.parts[0] if play.source.parts else ""
            if not isinstance(first, str):
                continue
            if first.lower().startswith(("http://", "https://")):
                continue
            yield Finding(
                play.source.span or play.span,
                f'"{play.source.text}" is not an http(s) address',
                label="Telnyx cannot fetch this",
                help='use a full `https://...` URL, or `play media "NAME"` for uploaded audio',
            )


KEY_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "star": "*",
    "pound": "#",
    "hash": "#",
}
_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine|star|pound|hash)"
_SENTENCE = re.compile(r"[^.!?]+")
_ASKS = re.compile(r"\b(?:press|dial|push|hit|enter|select|choose)\b", re.IGNORECASE)
# A lone key (`3`, not `30`), or a key word right after "press" / "or" / a comma. A key word
# followed by another ("press pound one two") begins an entry of several keys, which offers
# none of them alone, as `30` does not offer 3.
_ALONE = rf"(?!\s+{_WORD}\b)"
_KEYS = re.compile(
    rf"(?<![\w*#])([0-9*#])(?![\w*#])"
    rf"|\b(?:press|dial|push|hit|enter|select|choose|or|and)\s+({_WORD})\b{_ALONE}"
    rf"|,\s*({_WORD})\b{_ALONE}",
    re.IGNORECASE,
)


def mentioned_keys(text: str) -> list[str]:
    """The keys a prompt tells the caller to press: in each sentence that asks for a key
    ("press", "dial", "enter"...), every lone key (`1`, `*`) and key word after the verb or
    an "or" ("press one or two", "press star"). An entry of several keys ("press 12",
    "press one two") is no single key."""
    keys: list[str] = []
    for sentence in _SENTENCE.findall(text):
        if not _ASKS.search(sentence):
            continue
        for match in _KEYS.finditer(sentence):
            word = next(g for g in match.groups() if g)
            key = KEY_WORDS.get(word.lower(), word)
            if key not in keys:
                keys.append(key)
    return keys


@rule("FL407", "prompt-branch-mismatch", Severity.WARNING, local=True)
def prompt_branch_mismatch(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Compares what a gather's prompt tells the caller to press ("press 3") with the keys its
    branches take: a key the prompt offers that no branch takes, or a one-key branch the
    prompt never mentions. "Press pound" is no option while `#` is the terminator (it ends
    the entry); with `terminator none` it is one like any other key. An entry of several
    keys, in digits or words ("press 12", "press pound one two"), offers none of its keys
    alone.

    ## Why is this bad?
    A caller who does what the prompt says and lands in "that is not an option" hangs up
    annoyed; a branch nobody is told about is never used.

    ## Example
    ```
    gather:
        say "For sales press 1. For support press 2. For our hours press 3."
        on digits "1": goto sales
        on digits "2": goto support
    ```

    ## Use instead
    ```
    gather:
        say "For sales press 1. For support press 2. For our hours press 3."
        on digits "1": goto sales
        on digits "2": goto support
        on digits "3": goto hours
    ```
    """
    for gather in gathers(ctx):
        texts = [p.text.text for p in gather.prompt if isinstance(p, nodes.Say)]
        texts.extend(r.text.text for r in gather.reprompts)
        keys = mentioned_keys(" ".join(texts))
        if not keys:
            continue
        taken = branches(gather)
        values = {b.value for b in taken}
        anchor = next((p for p in gather.prompt if isinstance(p, nodes.Say)), None)
        # "then press pound" offers no option when `#` is the terminator: it ends the entry.
        # With `terminator none` it is an ordinary key, and a branch must take it.
        terminator = terminator_key(gather)
        if not has_catch_all(gather):
            for key in keys:
                if key not in values and key != terminator:
                    yield Finding(
                        anchor.span if anchor is not None else gather.span,
                        f'the prompt says to press {key}, but no branch takes "{key}"',
                        label=f"offers {key}",
                        help=f'add `on digits "{key}": ...`, or change the prompt',
                    )
        for b in taken:
            if len(b.value) == 1 and b.value not in keys:
                yield Finding(
                    b.str_node.span or b.handler.span,
                    f'branch "{b.value}" is never mentioned in the prompt',
                    label="callers are not told about this",
                    help=f"tell the caller, e.g. \"... press {b.value}\", or remove the branch",
                )
