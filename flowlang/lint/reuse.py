"""Rules about reuse (FL87x): steps run with `call`, and the catalogs of other languages."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from flowlang.catalog import Catalog, Entry, catalog_name, parse_catalog, spoken_texts
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.runtime.state import CALL_DEPTH
from flowlang.syntax import nodes
from flowlang.syntax.fmt import render_str


@rule("FL870", "return-without-call", Severity.ERROR)
def return_without_call(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `return` that can run when no `call` is active: in the first step, in a step
    reached only with `goto` from there, in `on hangup:`, or in a step no `call` runs.

    ## Why is this bad?
    `return` goes back to the `call` that ran the step. With no call to go back to there is
    nowhere to return to: the flow just ends there, which is rarely what was meant.

    ## Example
    ```
    main:
        answer
        gather digits 4 into pin:
            say "Please enter your PIN."
            on digits: return
        say "Goodbye."
    ```

    ## Use instead
    Run the step with `call`, so `return` comes back after it:
    ```
    main:
        answer
        call ask_pin
        say "Goodbye."

    ask_pin:
        gather digits 4 into pin:
            say "Please enter your PIN."
            on digits: return
    ```
    """
    graph = ctx.analysis.graph
    outside = graph.outside_calls()
    inside: set[int] = set()
    for region in graph.regions.values():
        inside |= region
    # A step defined twice (FL102) is run as its first definition: the other's `return` is
    # not a second mistake to report.
    names = [s.name.value for s in ctx.flow.steps]
    twice = {name for name in names if names.count(name) > 1}
    for n in graph.nodes:
        if n.kind != "stmt" or not isinstance(n.node, nodes.Return):
            continue
        step = n.step
        if n.id in outside:
            where = "in `on hangup:`" if not step else f"in `{step}`"
            yield Finding(
                n.span,
                f"this `return` can run {where} when no `call` is active",
                label="nothing to return to",
                help=f"run `{step}` with `call {step}` instead of `goto`, or end the call here "
                "with `hangup`"
                if step
                else "`on hangup:` is not called: leave out the `return`",
            )
        elif n.id not in inside and step not in twice:
            # Also a `return` in `on hangup:` that never runs (after a `hangup` there): it
            # belongs to no step, and "is in ``" named none.
            yield Finding(
                n.span,
                f"this `return` is in `{step}`, which no `call` runs"
                if step
                else "this `return` is in `on hangup:`, which no `call` runs",
                label="nothing to return to",
                help=f"run the step with `call {step}`, or leave out the `return`"
                if step
                else "`on hangup:` is not called: leave out the `return`",
            )


@rule("FL871", "recursive-call", Severity.WARNING)
def recursive_call(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `call` that runs a step which is already running: the step calls itself, or
    calls a step that calls it back.

    ## Why is this bad?
    Every such `call` waits for the one inside it to return, so each round goes one call
    deeper. After 50 calls inside one another the flow stops with an error and the call is
    hung up. To go back to a menu, use `goto`; to come back to where the call was, `return`.

    ## Example
    ```
    main:
        answer
        call menu

    menu:
        gather:
            say "Press 1 to hear our hours, or 2 to hear this again."
            on digits "1": say "We are open nine to five."
            on digits "2": call menu
    ```

    ## Use instead
    ```
    main:
        answer
        call menu

    menu:
        gather:
            say "Press 1 to hear our hours, or 2 to hear this again."
            on digits "1": say "We are open nine to five."
            on digits "2": goto menu
    ```
    """
    graph = ctx.analysis.graph
    regions = graph.regions
    calls_in: dict[str, set[str]] = {name: set() for name in regions}
    sites: list[tuple[str, nodes.Call]] = []
    for name, region in regions.items():
        for nid in region:
            node = graph.nodes[nid]
            if node.kind == "stmt" and isinstance(node.node, nodes.Call):
                target = node.node.target.value
                if target in regions:
                    calls_in[name].add(target)
                    sites.append((name, node.node))
    reported: set[int] = set()
    for name, call in sites:
        target = call.target.value
        if id(call) in reported or not _reaches(calls_in, target, name):
            continue
        reported.add(id(call))
        again = "itself" if target == name else f"`{target}`, which runs `{name}` again"
        yield Finding(
            call.span,
            f"`{name}` calls {again} before it returns",
            label="one call deeper every time",
            help=f"to start `{target}` over, use `goto {target}`; calls inside one another stop "
            f"the flow after {CALL_DEPTH}",
        )


def _reaches(calls_in: dict[str, set[str]], start: str, goal: str) -> bool:
    seen = {start}
    todo = [start]
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        for nxt in calls_in.get(name, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def catalogs(ctx: Context) -> Iterator[tuple[nodes.Spoken, Catalog | None, int]]:
    """Each language of the flow after its first, its catalog (None: no file), and the line
    offset that numbers the catalog's lines in the merged flow."""
    for spoken in ctx.flow.speaks[1:]:
        language = spoken.language.text
        name = catalog_name(ctx.source.name, language)
        part = ctx.source.named(name)
        if part is None or part is ctx.source:
            yield spoken, None, 0
        else:
            yield spoken, parse_catalog(part, language), ctx.source.offset_of(name)


@rule("FL872", "missing-translation", Severity.ERROR)
def missing_translation(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every text the flow says (`say` lines, prompts, reprompts, AI greetings) has a
    translation in the catalog of each language the flow declares besides its first
    (`NAME.LANGUAGE.texts`, beside the flow).

    ## Why is this bad?
    A caller who chose that language would hear this text in the flow's first language, in
    the voice of the other one.

    ## Example
    ```
    languages:
        "en-US" voice "Telnyx.KokoroTTS.af"
        "es-US" voice "AWS.Polly.Lupe-Neural"

    main:
        answer
        say "Goodbye."
    ```
    with a `main.es-US.texts` that has no line for "Goodbye.".

    ## Use instead
    Add the line to `main.es-US.texts`:
    ```
    "Goodbye." = "Adiós."
    ```
    """
    # Most flows speak one language: their texts are not read at all.
    texts = list(spoken_texts(ctx.flow)) if ctx.flow.speaks[1:] else []
    for spoken, catalog, _ in catalogs(ctx):
        language = spoken.language.text
        if catalog is None:
            name = catalog_name(ctx.source.name, language)
            yield Finding(
                spoken.span,
                f"the flow speaks {language}, but there is no catalog of its {language} texts",
                label="no translations",
                help=f"create {name} with one line per text: \"text\" = \"translation\"",
            )
            continue
        seen: set[str] = set()
        for text in texts:
            if text.text in seen or catalog.get(text.text) is not None:
                continue
            seen.add(text.text)
            yield Finding(
                text.span,
                f"this text has no {language} translation",
                label=f"not in {catalog.source.name}",
                help=f"add to {catalog.source.name}: {render_str(text)} = \"...\"",
            )


@rule("FL873", "stale-translation", Severity.WARNING)
def stale_translation(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds lines of a translation catalog whose text the flow no longer says (it was changed
    or deleted), and texts translated twice.

    ## Why is this bad?
    The translation is never used: usually the flow's text was reworded and the catalog still
    has the old wording, so the new wording has no translation yet.

    ## Example
    The flow says `say "Thanks for calling."`, and `main.es-US.texts` has
    ```
    "Thank you for calling." = "Gracias por llamar."
    ```

    ## Use instead
    ```
    "Thanks for calling." = "Gracias por llamar."
    ```
    """
    texts = {text.text for text in spoken_texts(ctx.flow)} if ctx.flow.speaks[1:] else set()
    for _, catalog, offset in catalogs(ctx):
        if catalog is None:
            continue
        first: dict[str, Entry] = {}
        for entry in catalog.entries:
            key = entry.text.text
            if key in first:
                yield Finding(
                    entry.span.down(offset),
                    "this text is translated twice "
                    f"(first at line {first[key].span.line + offset})",
                    label="never used",
                    help="keep one translation and delete the other",
                )
                continue
            first[key] = entry
            if key not in texts:
                close = difflib.get_close_matches(key, list(texts), n=1, cutoff=0.6)
                yield Finding(
                    entry.span.down(offset),
                    "the flow does not say this text (any more)",
                    label="never used",
                    help=f'did the flow\'s text change? it now says "{close[0]}"'
                    if close
                    else "delete this line, or correct the text to what the flow says",
                )


@rule("FL874", "translation-values", Severity.ERROR)
def translation_values(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a translation uses the same `{values}` as the text it translates, and that
    every line of a catalog reads as `"text" = "translation"`.

    ## Why is this bad?
    A `{value}` left out of the translation is never said; one the text does not have would
    be said empty. A line that cannot be read translates nothing.

    ## Example
    ```
    "Your order {order} is ready." = "Su pedido está listo."
    ```

    ## Use instead
    ```
    "Your order {order} is ready." = "Su pedido {order} está listo."
    ```
    """
    for _, catalog, offset in catalogs(ctx):
        if catalog is None:
            continue
        for problem in catalog.problems:
            yield Finding(
                problem.span.down(offset) if problem.span is not None else None,
                problem.message,
                label=problem.label,
                help=problem.help,
            )
        for entry in catalog.entries:
            wanted = {i.dotted for i in entry.text.interpolations}
            given = {i.dotted for i in entry.translation.interpolations}
            if wanted == given:
                continue
            missing = ", ".join(f"{{{v}}}" for v in sorted(wanted - given))
            extra = ", ".join(f"{{{v}}}" for v in sorted(given - wanted))
            what = (
                f"leaves out {missing}" if missing and not extra
                else f"has {extra}, which the text does not" if extra and not missing
                else f"leaves out {missing} and has {extra}"
            )
            yield Finding(
                entry.span.down(offset),
                f"this translation {what}",
                label="values differ",
                help="use the same {values} in the translation as in the text",
            )


@rule("FL875", "unknown-language-choice", Severity.ERROR)
def unknown_language_choice(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that `set language = "..."` names one of the languages of the flow's
    `languages:` block, written the same way (`"es-US"`, not `"es"` or `"spanish"`).

    ## Why is this bad?
    Any other value switches to nothing: the caller who pressed 2 for Spanish goes on hearing
    the flow's first language.

    ## Example
    ```
    languages:
        "en-US" voice "Telnyx.KokoroTTS.af"
        "es-US" voice "AWS.Polly.Lupe-Neural"

    main:
        gather:
            say "For English, press 1."
            on digits "2": set language = "spanish"
    ```

    ## Use instead
    ```
            on digits "2": set language = "es-US"
    ```
    """
    spoken = [s.language.text for s in ctx.flow.speaks]
    if not spoken:
        return
    listed = ", ".join(f'`"{language}"`' for language in spoken)
    for stmt in ctx.statements():
        if not isinstance(stmt, nodes.Set) or stmt.name.value != "language":
            continue
        value = stmt.value
        if not isinstance(value, nodes.Str) or value.interpolations or value.text in spoken:
            continue
        close = difflib.get_close_matches(value.text, spoken, n=1, cutoff=0.4)
        fix = f'did you mean `"{close[0]}"`? ' if close else ""
        yield Finding(
            value.span,
            f'"{value.text}" is not one of the languages this flow speaks',
            label="not in languages:",
            help=f"{fix}the flow's languages are {listed}, from its `languages:` block",
        )
