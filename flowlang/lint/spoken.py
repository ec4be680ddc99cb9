"""Rules about spoken formats (FL82x): `{value as FORMAT}` in a language that can say it."""

from __future__ import annotations

from collections.abc import Iterator

from flowlang.catalog import spoken_texts
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.lint.reuse import catalogs
from flowlang.runtime.spoken import DEFAULT_LANGUAGE, ENGLISH, formats_of
from flowlang.syntax import nodes


def _spoken_texts(ctx: Context) -> Iterator[tuple[nodes.Str, nodes.Str | None]]:
    """Every text that is spoken, with the language it is spoken in (None: Telnyx's default)."""
    file_language = ctx.flow.setting("language")
    for stmt in ctx.statements():
        if isinstance(stmt, nodes.Say):
            yield stmt.text, stmt.language or file_language
        elif isinstance(stmt, nodes.Gather):
            says = [p for p in stmt.prompt if isinstance(p, nodes.Say)]
            language = stmt.language or (says[0].language if says else None) or file_language
            for say in says:
                yield say.text, language
            for reprompt in stmt.reprompts:
                yield reprompt.text, language


@rule("FL820", "format-not-in-language", Severity.ERROR)
def format_not_in_language(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every `{value as FORMAT}` in spoken text uses a format the text's language has:
    `digits` and `phone` work in every language; `money`, `date` and `time` have English
    wording (en-US, en-GB, en-GB-WLS, en-AU, en-IN). In a flow of several `languages:`, the
    translations in each language's catalog are checked against that language.

    ## Why is this bad?
    flowlang cannot put a date or an amount into words of that language, so the caller would
    hear the raw value (`2026-11-23`) read out in a foreign voice.

    ## Example
    ```
    language "de-DE"

    main:
        say "Ihr Termin ist am {appointment as date}."
    ```

    ## Use instead
    Say the value as written, or switch that line to an English language:
    ```
    language "de-DE"

    main:
        say "Ihr Termin ist am {appointment}."
    ```
    """
    for text, language in _spoken_texts(ctx):
        if language is not None and language.interpolations:
            continue  # the language is only known on the call
        name = language.text if language is not None else DEFAULT_LANGUAGE
        yield from _unsayable(text, name, 0)
    # A caller who chose another language of `languages:` hears the catalog's translation,
    # worded in that language.
    spoken = {text.text for text in spoken_texts(ctx.flow)} if ctx.flow.speaks[1:] else set()
    for tongue, catalog, offset in catalogs(ctx):
        if catalog is None:
            continue
        for entry in catalog.entries:
            if entry.text.text in spoken:
                yield from _unsayable(entry.translation, tongue.language.text, offset)


def _unsayable(text: nodes.Str, language: str, offset: int) -> Iterator[Finding]:
    """The `{value as FORMAT}`s of `text` that `language` has no wording for; `offset` numbers
    the lines of a catalog in the merged flow."""
    available = formats_of(language)
    for interp in text.interpolations:
        if interp.format is None or interp.format in available:
            continue
        english = ", ".join(f"`{e}`" for e in ENGLISH)
        yield Finding(
            interp.span.down(offset) if offset and interp.span is not None else interp.span,
            f"`{interp.format}` cannot be said in `{language}`",
            label=f"no `{interp.format}` wording in {language}",
            help=f"write `{{{interp.dotted}}}` to say the value as written; `money`, "
            f"`date` and `time` are worded in {english}",
        )
