"""`flowlang lsp` end to end: a real LSP client over stdio asks for each feature."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from flowlang.lint import check_source, telnyx_data
from flowlang.source import Source
from flowlang.syntax.fmt import format_text
from tests.lsp.conftest import applied, at, formatting, open_flow

pytestmark = pytest.mark.asyncio(loop_scope="session")

FLOW = """voice "Telnyx.KokoroTTS.af"

main:
    answer
    gather digits 1 into choice:
        say "Press 1 for sales."
        on digits "1": goto sales
        on invalid: goto sales
        on timeout: goto sales
    goto sales

sales:
    say "Sales, you pressed {choice}."
    goto wrap_up

wrap_up:
    hangup
"""


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


async def definition(client: LanguageClient, uri: str, where: types.Position) -> Any:
    return await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=where)
    )


async def references(
    client: LanguageClient, uri: str, where: types.Position, declaration: bool
) -> list[tuple[int, int]]:
    """The 0-based lines and characters of the references to the name at `where`, in order."""
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(uri),
            position=where,
            context=types.ReferenceContext(include_declaration=declaration),
        )
    )
    assert found is not None
    return sorted((loc.range.start.line, loc.range.start.character) for loc in found)


async def renamed(
    client: LanguageClient, uri: str, where: types.Position, new: str
) -> dict[str, list[types.Position]]:
    """Where renaming the name at `where` to `new` writes, file by file."""
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc(uri), position=where, new_name=new)
    )
    assert edit is not None and edit.changes is not None
    assert {e.new_text for edits in edit.changes.values() for e in edits} == {new}
    return {u: [e.range.start for e in edits] for u, edits in edit.changes.items()}


async def hover(client: LanguageClient, uri: str, line: int, character: int) -> str:
    result = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(uri), position=at(line, character))
    )
    assert result is not None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


# --------------------------------------------------------------------------------------------
# Diagnostics


async def test_diagnostics_are_the_findings_of_check_with_rule_links(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = FLOW.replace("goto wrap_up", "goto wrap_upp")
    uri = await open_flow(client, tmp_path / "links.flow", text)
    found = client.diagnostics[uri]
    expected = check_source(Source(str(tmp_path / "links.flow"), text))
    assert [(d.code, d.range.start.line + 1) for d in found] == [
        (d.code, d.span.line if d.span else 0) for d in expected
    ]
    (typo,) = [d for d in found if d.code == "FL101"]
    assert typo.range == types.Range(at(13, 9), at(13, 17))
    assert typo.code_description is not None
    page = Path(typo.code_description.href.removeprefix("file://"))
    assert page.name == "FL101.md" and page.is_file()
    assert "did you mean `wrap_up`?" in typo.message


async def test_a_syntax_error_links_and_explains_its_section_of_errors_md(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = await open_flow(client, tmp_path / "syntax.flow", "main\n    hangup\n")
    (error,) = client.diagnostics[uri]
    assert error.code == "FL002" and error.code_description is not None
    page, fragment = error.code_description.href.split("#")
    assert page.endswith("/docs/errors.md") and Path(page.removeprefix("file://")).is_file()
    assert fragment == "fl002-a-block-needs-a--at-the-end-of-its-first-line"
    text = await hover(client, uri, 0, 4)
    assert text.startswith("**FL002: a block needs a `:` at the end of its first line**")
    assert "**Fix:** write `main:`." in text


async def test_diagnostics_follow_the_projects_pyproject_toml(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = FLOW.replace("        on timeout: goto sales\n", "")
    first = await open_flow(client, tmp_path / "plain.flow", text)
    assert [d.code for d in client.diagnostics[first]] == ["FL308"]
    project = tmp_path / "project"
    (project / "flows").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.flowlang]\nignore = ["FL308"]\n')
    second = await open_flow(client, project / "flows" / "main.flow", text)
    assert list(client.diagnostics[second]) == []


async def test_diagnostics_follow_edits(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_flow(client, tmp_path / "edits.flow", FLOW)
    assert list(client.diagnostics[uri]) == []
    await change(client, uri, 2, FLOW.replace("    hangup\n", "    hangup\n    say \n"))
    (syntax,) = client.diagnostics[uri]
    assert isinstance(syntax.code, str) and syntax.code.startswith("FL0")
    await change(client, uri, 3, FLOW)
    assert list(client.diagnostics[uri]) == []


SEPARATOR = 'main:\n    answer\n    say "a\u2028b\x0cc"\n    goto suport\n\nsupport:\n    hangup\n'


async def test_lines_end_only_where_lsp_ends_them(client: LanguageClient, tmp_path: Path) -> None:
    # U+2028 and a form feed in a string (pasted from a word processor) end no line for the
    # editor: an edit below them lands where the editor made it, and positions stay right.
    path = tmp_path / "separator.flow"
    uri = await open_flow(client, path, SEPARATOR)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(at(3, 9), at(3, 15)), text="support"
                )
            ],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    text = SEPARATOR.replace("suport", "support")
    expected = check_source(Source(str(path), text))
    assert [(d.code, d.range.start.line + 1) for d in client.diagnostics[uri]] == [
        (d.code, d.span.line if d.span else 0) for d in expected
    ]
    where = await definition(client, uri, at(3, 10))
    assert where == [types.Location(uri=uri, range=types.Range(at(5, 0), at(5, 7)))]
    assert "step `support` (line 6)" in await hover(client, uri, 3, 10)


BOM_FLOW = '\ufeffmain: # the greeting\n    goto suport\n\nsupport:\n    hangup\n'


async def test_a_byte_order_mark_is_read_as_check_reads_it(
    client: LanguageClient, tmp_path: Path
) -> None:
    # Notepad starts a file with U+FEFF. `check` drops it; the editor keeps it as the first
    # character of line 1, so findings there sit one character to the right of check's column.
    path = tmp_path / "notepad.flow"
    uri = await open_flow(client, path, BOM_FLOW)
    expected = check_source(Source(str(path), BOM_FLOW.removeprefix("\ufeff")))
    # (`support` is the step the misspelt `goto` meant, so FL101 alone reports it.)
    assert [(d.code, d.span and d.span.line) for d in expected] == [("FL202", 1), ("FL101", 2)]
    assert [(d.code, d.range) for d in client.diagnostics[uri]] == [
        ("FL202", types.Range(at(0, 1), at(0, 5))),
        ("FL101", types.Range(at(1, 9), at(1, 15))),
    ]
    assert "step `main`" in await hover(client, uri, 0, 2)
    await change(client, uri, 2, BOM_FLOW.replace("suport", "support"))
    where = await definition(client, uri, at(1, 10))
    assert where == [types.Location(uri=uri, range=types.Range(at(3, 0), at(3, 7)))]
    # Formatting keeps the mark, as `flowlang fmt` does: only line 1's comment moves.
    edits = await formatting(client, uri)
    assert edits == [
        types.TextEdit(types.Range(at(0, 0), at(1, 0)), "\ufeffmain:  # the greeting\n")
    ]


class Published(dict[str, Any]):
    """The client's diagnostics by URI, remembering each publication in order."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__(current)
        self.order: list[tuple[str, Any]] = []

    def __setitem__(self, uri: str, diagnostics: Any) -> None:
        self.order.append((uri, diagnostics))
        super().__setitem__(uri, diagnostics)


async def test_fast_typing_is_answered_for_the_latest_version(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = await open_flow(client, tmp_path / "typing.flow", FLOW)
    published = client.diagnostics = Published(client.diagnostics)
    # Twenty versions sent at once, each with its own misspelt step (its own finding).
    for version in range(2, 22):
        text = FLOW.replace("goto wrap_up", f"goto wrap_up{version}")
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def versions() -> list[int]:
        found = [
            d.message
            for u, diagnostics in published.order
            if u == uri
            for d in diagnostics
            if d.code == "FL101"
        ]
        return [int(m.split("`wrap_up")[1].split("`")[0]) for m in found]

    for _ in range(1000):  # up to 10 seconds
        if 21 in versions():
            break
        await asyncio.sleep(0.01)
    # A round trip: whatever the server sent before answering has arrived.
    await hover(client, uri, 4, 6)
    seen = versions()
    assert seen[-1] == 21 and seen == sorted(set(seen)), seen


# --------------------------------------------------------------------------------------------
# Hover


async def test_hover_on_a_keyword_shows_its_reference_entry(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = await open_flow(client, tmp_path / "hover.flow", FLOW)
    assert "gather: asking for key presses" in await hover(client, uri, 4, 6)
    # An option on a header line: its row of the gather's option table.
    option = await hover(client, uri, 4, 22)
    assert "`into NAME`" in option and "`timeout D`" not in option
    # A handler word: the handler table of the block it stands in.
    assert "after the last try, when the caller pressed nothing" in await hover(client, uri, 8, 12)


async def test_hover_on_names_and_findings(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_flow(client, tmp_path / "names.flow", FLOW.replace("wrap_up\n", "wrapup\n", 1))
    step = await hover(client, uri, 6, 30)
    assert "step `sales` (line 12)" in step and 'say "Sales, you pressed {choice}."' in step
    variable = await hover(client, uri, 12, 31)
    assert "variable `choice`" in variable and "line 5" in variable
    # The finding's rule is explained where it is reported.
    finding = await hover(client, uri, 13, 11)
    assert "**FL101** `unknown-step`: Checks that every `goto`" in finding


# --------------------------------------------------------------------------------------------
# Definition, references, rename


async def test_definition_of_a_step_and_of_a_variable(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = await open_flow(client, tmp_path / "definition.flow", FLOW)
    step = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=at(6, 29))
    )
    assert step == [types.Location(uri=uri, range=types.Range(at(11, 0), at(11, 5)))]
    variable = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=at(12, 30))
    )
    assert variable == [types.Location(uri=uri, range=types.Range(at(4, 25), at(4, 31)))]


async def test_references_of_a_step(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_flow(client, tmp_path / "references.flow", FLOW)
    found = await references(client, uri, at(11, 2), declaration=True)
    assert [line for line, _ in found] == [6, 7, 8, 9, 11]
    without = await references(client, uri, at(11, 2), declaration=False)
    assert [line for line, _ in without] == [6, 7, 8, 9]


async def test_rename_a_step_and_a_variable(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_flow(client, tmp_path / "rename.flow", FLOW)
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc(uri), position=at(9, 9), new_name="sales_desk")
    )
    assert edit is not None and edit.changes is not None
    assert sorted(e.range.start.line for e in edit.changes[uri]) == [6, 7, 8, 9, 11]
    assert {e.new_text for e in edit.changes[uri]} == {"sales_desk"}
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc(uri), position=at(4, 27), new_name="pressed")
    )
    assert edit is not None and edit.changes is not None
    assert [(e.range.start.line, e.range.start.character) for e in edit.changes[uri]] == [
        (4, 25),
        (12, 29),
    ]


async def test_rename_refuses_a_keyword_or_a_taken_name(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = await open_flow(client, tmp_path / "refuse.flow", FLOW)
    for bad, says in (("say", "cannot name a step"), ("wrap_up", "already has a step")):
        with pytest.raises(JsonRpcException, match=says) as refused:
            await client.text_document_rename_async(
                types.RenameParams(text_document=doc(uri), position=at(11, 1), new_name=bad)
            )
        # A plain message, not a Python exception's name and traceback.
        assert refused.value.message.startswith(f"`{bad}`" if bad == "say" else "this flow")
        assert refused.value.data is None


async def test_a_request_that_does_not_fit_its_method_is_answered(
    client: LanguageClient, tmp_path: Path
) -> None:
    # A position with a negative line cannot be read: JSON-RPC wants an error back (Invalid
    # params), not silence that leaves the editor waiting.
    uri = await open_flow(client, tmp_path / "odd.flow", FLOW)
    position = at(0, 0)
    object.__setattr__(position, "line", -1)  # past the client's own check
    bad = types.HoverParams(text_document=doc(uri), position=position)
    with pytest.raises(JsonRpcException) as refused:
        await asyncio.wait_for(client.text_document_hover_async(bad), 5)
    assert refused.value.code == -32602
    assert "gather: asking for key presses" in await hover(client, uri, 4, 6)  # and goes on


async def test_rename_refuses_a_built_in_variable(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_flow(client, tmp_path / "builtin.flow", FLOW)
    choice = at(4, FLOW.split("\n")[4].index("choice") + 1)
    for bad in ("caller", "called", "now", "language", "digits"):
        with pytest.raises(JsonRpcException, match=f"`{bad}` cannot name a variable"):
            await client.text_document_rename_async(
                types.RenameParams(text_document=doc(uri), position=choice, new_name=bad)
            )
    assert await renamed(client, uri, choice, "pick") == {uri: [at(4, 25), at(12, 29)]}


async def test_a_request_on_a_missing_file_says_so_plainly(
    client: LanguageClient, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.flow"
    with pytest.raises(JsonRpcException) as failed:
        await client.text_document_hover_async(
            types.HoverParams(text_document=doc(missing.as_uri()), position=at(0, 0))
        )
    assert failed.value.message == f"cannot read {missing}: no such file or directory"
    assert failed.value.data is None


HOURS = """voice "Telnyx.KokoroTTS.af"
timezone "America/Chicago"

hours office:
    mon-fri 9:00-17:00

main:
    answer
    if open office:
        say "We are open."
    elif not open office:
        say "We are closed."
    hangup
"""


async def test_definition_references_and_rename_of_hours(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = await open_flow(client, tmp_path / "hours.flow", HOURS)
    assert list(client.diagnostics[uri]) == []
    where = await definition(client, uri, at(8, 14))
    assert where == [types.Location(uri=uri, range=types.Range(at(3, 6), at(3, 12)))]
    assert await references(client, uri, at(3, 8), declaration=False) == [(8, 12), (10, 18)]
    assert await renamed(client, uri, at(10, 20), "desk") == {
        uri: [at(3, 6), at(8, 12), at(10, 18)]
    }
    with pytest.raises(Exception, match="cannot name an `hours` block"):
        await client.text_document_rename_async(
            types.RenameParams(text_document=doc(uri), position=at(3, 7), new_name="open")
        )


async def test_hours_of_an_included_file(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    shared = tmp_path / "shared" / "hours.flow"
    shared.write_text("hours office:\n    mon-fri 9:00-17:00\n\nclosed_line:\n    hangup\n")
    text = HOURS.replace("hours office:\n    mon-fri 9:00-17:00\n", 'include "shared/hours.flow"\n')
    uri = await open_flow(client, tmp_path / "front.flow", text)
    assert list(client.diagnostics[uri]) == []
    where = await definition(client, uri, at(7, 14))
    assert where == [types.Location(uri=shared.as_uri(), range=types.Range(at(0, 6), at(0, 12)))]
    assert await renamed(client, uri, at(7, 14), "desk") == {
        uri: [at(7, 12), at(9, 18)],
        shared.as_uri(): [at(0, 6)],
    }


async def test_a_shared_file_is_checked_as_part_of_the_flows_beside_it_that_include_it(
    client: LanguageClient, tmp_path: Path
) -> None:
    # Alone, its steps would be a flow that never answers, whose `return` goes nowhere; as
    # `flowlang check` does, it is checked as part of the flow that includes it, as typed.
    shared_text = 'verify:\n    log "checking"\n    return\n'
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.flow").write_text(shared_text)
    (tmp_path / "line.flow").write_text(
        'include "shared/common.flow"\n\nmain:\n    answer\n    call verify\n    goto nowhere\n'
    )
    uri = await open_flow(client, tmp_path / "shared" / "common.flow", shared_text)
    assert list(client.diagnostics[uri]) == []
    await change(client, uri, 2, shared_text.replace("return", "goto wrapup"))
    (found,) = client.diagnostics[uri]
    assert found.code == "FL101" and found.range.start == at(2, 9)
    assert "wrapup" in found.message


# --------------------------------------------------------------------------------------------
# Completion


HEAD = 'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n'


async def complete_at(client: LanguageClient, path: Path, body: str) -> types.CompletionList:
    """Completion where `‸` stands in `body`, written under the step `main:` of a flow."""
    text = HEAD + body
    before = text[: text.index("‸")]
    uri = await open_flow(client, path, text.replace("‸", ""))
    position = at(before.count("\n"), len(before) - before.rfind("\n") - 1)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=position)
    )
    assert isinstance(result, types.CompletionList)
    return result


async def test_completion_offers_the_options_a_header_has_left(
    client: LanguageClient, tmp_path: Path
) -> None:
    result = await complete_at(
        client, tmp_path / "header.flow", "    gather digits 1 timeout 5s ‸\n"
    )
    found = {item.label for item in result.items}
    assert {"tries", "terminator", "into", "valid", "inter_digit_timeout"} <= found
    assert not {"timeout", "digits", "say"} & found
    assert {item.kind for item in result.items} == {types.CompletionItemKind.Keyword}


async def test_completion_offers_the_handlers_of_the_block(
    client: LanguageClient, tmp_path: Path
) -> None:
    gather = '    gather digits 1:\n        say "Press 1."\n        on ‸\n'
    ai_gather = '    ai_gather into booking:\n        greeting "Hello."\n        on ‸\n'
    for name, body, expected in (
        ("gather", gather, ["digits", "invalid", "timeout"]),
        ("ai_gather", ai_gather, ["invalid", "key", "valid"]),
    ):
        result = await complete_at(client, tmp_path / f"{name}.flow", body)
        assert sorted(item.label for item in result.items) == expected


async def test_completion_offers_a_statement_of_several_words_whole(
    client: LanguageClient, tmp_path: Path
) -> None:
    body = '    gather digits 4 into pin:\n        say "PIN?"\n        on digits:\n            t‸\n'
    result = await complete_at(client, tmp_path / "phrase.flow", body)
    edit = next(i.text_edit for i in result.items if i.label == "try again")
    assert edit is not None and edit.new_text == "try again"
    assert "transfer" in {i.label for i in result.items} and "try" not in {
        i.label for i in result.items
    }


async def test_completion_in_the_middle_of_a_word_may_replace_all_of_it(
    client: LanguageClient, tmp_path: Path
) -> None:
    # `goto sa‸les_team`: the editor may insert before the rest, or replace the whole word.
    result = await complete_at(
        client, tmp_path / "middle.flow", "    goto sa‸les_team\n\nsales:\n    hangup\n"
    )
    edit = next(i.text_edit for i in result.items if i.label == "sales")
    assert isinstance(edit, types.InsertReplaceEdit)
    assert edit.insert == types.Range(at(4, 9), at(4, 11))
    assert edit.replace == types.Range(at(4, 9), at(4, 19))
    assert edit.new_text == "sales"


async def test_completion_of_statements_steps_and_variables(
    client: LanguageClient, tmp_path: Path
) -> None:
    statements = await complete_at(client, tmp_path / "statements.flow", "    g‸\n")
    found = {item.label for item in statements.items}
    assert {"say", "gather", "goto", "hangup", "ai_gather", "assistant"} <= found
    edit = next(i.text_edit for i in statements.items if i.label == "gather")
    assert isinstance(edit, types.TextEdit) and edit.range.start == at(4, 4)
    steps = await complete_at(
        client, tmp_path / "steps.flow", "    goto s‸\n\nsales:\n    hangup\n"
    )
    assert [(i.label, i.detail) for i in steps.items] == [
        ("main", "step at line 3"),
        ("sales", "step at line 7"),
    ]
    called = await complete_at(client, tmp_path / "call.flow", "    call ‸\n\nsales:\n    return\n")
    assert [i.label for i in called.items] == ["main", "sales"]
    variables = await complete_at(
        client, tmp_path / "variables.flow", '    set plan = "gold"\n    if ‸\n'
    )
    assert {"plan", "caller", "called", "digits", "not", "true"} <= {
        i.label for i in variables.items
    }


async def test_completion_of_variables_inside_braces_in_text(
    client: LanguageClient, tmp_path: Path
) -> None:
    result = await complete_at(
        client, tmp_path / "braces.flow", '    set plan = "gold"\n    say "Your plan is {p‸\n'
    )
    found = {item.label: item for item in result.items}
    assert {"plan", "caller", "digits", "now"} <= set(found)
    edit = found["plan"].text_edit
    assert isinstance(edit, types.TextEdit) and edit.new_text == "plan"
    assert edit.range.start == at(5, 23)  # replaces the `p` typed
    # `{{` is a brace itself, not a value.
    literal = await complete_at(client, tmp_path / "literal.flow", '    say "Use {{‸\n')
    assert not literal.items


BOOKING = (
    "    ai_gather into booking:\n"
    '        field name string "The caller\'s name"\n'
    '        field guests integer "How many people"\n'
    '        on valid: say "Thanks."\n'
    "    record into message max 1m:\n"
    '        on saved: log "saved"\n'
)


@pytest.mark.parametrize(
    ("body", "fields", "typed"),
    [
        (BOOKING + '    say "Thanks {booking.‸\n', {"name", "guests"}, ""),
        (BOOKING + "    if booking.gu‸\n", {"name", "guests"}, "gu"),
        (BOOKING + '    log "{message.‸\n', {"url", "duration"}, ""),
        ('    say "It is {now.‸\n', {"date", "time", "hour", "minute", "weekday"}, ""),
        # A backend's answer is only known on the call: nothing to offer.
        ('    fetch "https://x.example/o" into order\n    say "{order.‸\n', set(), ""),
    ],
    ids=["ai-in-text", "ai-in-condition", "recording", "now", "backend"],
)
async def test_completion_of_the_fields_a_value_is_known_to_have(
    client: LanguageClient, tmp_path: Path, body: str, fields: set[str], typed: str
) -> None:
    result = await complete_at(client, tmp_path / "fields.flow", body)
    assert {item.label for item in result.items} == fields
    for item in result.items:
        assert item.kind == types.CompletionItemKind.Field
        edit = item.text_edit
        assert isinstance(edit, types.TextEdit) and edit.new_text == item.label
        assert edit.range.end.character - edit.range.start.character == len(typed)


async def test_no_completion_in_a_comment(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_flow(client, tmp_path / "comment_top.flow", "# Tést 😀 flow\n" + HEAD)
    top = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=at(0, 5))
    )
    assert isinstance(top, types.CompletionList) and not top.items
    after_code = await complete_at(client, tmp_path / "comment_end.flow", "    goto main  # go ‸\n")
    assert not after_code.items
    # A `#` inside a string starts no comment: what follows the string is completed.
    in_string = await complete_at(client, tmp_path / "hash.flow", '    say "#1" ‸\n')
    assert {"voice", "language"} <= {i.label for i in in_string.items}


async def test_completion_of_hours_after_open(client: LanguageClient, tmp_path: Path) -> None:
    body = "    if open o‸:\n        hangup\n\nhours office:\n    mon-fri 9:00-17:00\n"
    result = await complete_at(client, tmp_path / "open.flow", body)
    # Besides the words that may follow a variable called `open`: the hours, no variables.
    names = [i for i in result.items if i.kind != types.CompletionItemKind.Keyword]
    assert [(i.label, i.kind) for i in names] == [("office", types.CompletionItemKind.Constant)]


async def test_completion_of_languages_and_voices(client: LanguageClient, tmp_path: Path) -> None:
    languages = await complete_at(client, tmp_path / "languages.flow", '    say "Hi" language ‸\n')
    assert {i.label for i in languages.items} == set(telnyx_data.SPEAK_LANGUAGES)
    recognition = await complete_at(
        client, tmp_path / "recognition.flow", "    ai_gather language ‸\n"
    )
    assert {i.label for i in recognition.items} == set(telnyx_data.RECOGNITION_LANGUAGES)
    voices = await complete_at(client, tmp_path / "voices.flow", '    say "Hi" voice "Az‸\n')
    by_label = {item.label: item for item in voices.items}
    assert set(by_label) == set(telnyx_data.VOICES)
    edit = by_label["Azure.en-CA-ClaraNeural"].text_edit
    assert isinstance(edit, types.TextEdit)
    assert edit.new_text == 'Azure.en-CA-ClaraNeural"' and edit.range.start == at(4, 20)


# --------------------------------------------------------------------------------------------
# Formatting, quick fixes, symbols, folding


async def test_formatting_is_fmt_and_edits_only_the_lines_that_change(
    client: LanguageClient, tmp_path: Path
) -> None:
    messy = FLOW.replace("    answer\n", "    answer   # pick up\n").replace("\n\nsales", "\nsales")
    uri = await open_flow(client, tmp_path / "format.flow", messy)
    edits = await formatting(client, uri)
    assert edits is not None
    assert applied(messy, edits) == format_text(messy) != messy
    # The comment's line is written again and the blank line before `sales` put back; the
    # lines between are left alone (the editor keeps its cursor and marks there).
    assert [(e.range, e.new_text) for e in edits] == [
        (types.Range(at(3, 0), at(4, 0)), "    answer  # pick up\n"),
        (types.Range(at(10, 0), at(10, 0)), "\n"),
    ]
    broken = await open_flow(client, tmp_path / "broken.flow", "main:\n    say\n")
    assert not await formatting(client, broken)


async def test_formatting_keeps_windows_line_breaks(
    client: LanguageClient, tmp_path: Path
) -> None:
    # A tidy file saved with Windows line breaks is left alone (format on save changes
    # nothing); a messy one gets the lines that change, with Windows line breaks.
    tidy = FLOW.replace("\n", "\r\n")
    assert not await formatting(client, await open_flow(client, tmp_path / "tidy.flow", tidy))
    messy = tidy.replace("    answer\r\n", "    answer   # pick up\r\n")
    uri = await open_flow(client, tmp_path / "crlf.flow", messy)
    edits = await formatting(client, uri)
    assert edits == [types.TextEdit(types.Range(at(3, 0), at(4, 0)), "    answer  # pick up\r\n")]
    assert applied(messy, edits) == format_text(messy).replace("\n", "\r\n")


async def test_formatting_counts_the_last_line_in_utf16_units(
    client: LanguageClient, tmp_path: Path
) -> None:
    # The document ends without a line break after a comment with two emoji (each two UTF-16
    # units to the editor, one character to Python): the edit ends after them, not inside.
    text = '\ufeffmain:\r\n  hangup\r\n# call us \N{TELEPHONE RECEIVER}\N{MOBILE PHONE}'
    uri = await open_flow(client, tmp_path / "emoji.flow", text)
    edits = await formatting(client, uri)
    assert edits is not None and edits[-1].range.end == at(2, 10 + 2 + 2)
    assert applied(text, edits) == "\ufeff" + format_text(text[1:]).replace("\n", "\r\n")


@pytest.mark.parametrize(
    ("typo", "written", "code", "fixed"),
    [("goto wrap_up", "goto wrapup", "FL101", "wrap_up"),
     ("on timeout:", "on timout:", "FL009", "timeout")],
    ids=["step", "event"],
)
async def test_quick_fix_takes_the_did_you_mean_hint(
    client: LanguageClient, tmp_path: Path, typo: str, written: str, code: str, fixed: str
) -> None:
    uri = await open_flow(client, tmp_path / "fix.flow", FLOW.replace(typo, written))
    (found,) = [d for d in client.diagnostics[uri] if d.code == code]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(uri),
            range=found.range,
            context=types.CodeActionContext(diagnostics=[found]),
        )
    )
    assert actions is not None
    (action,) = actions
    assert isinstance(action, types.CodeAction) and action.edit is not None
    assert action.edit.changes is not None
    assert list(action.edit.changes[uri]) == [types.TextEdit(found.range, fixed)]


async def test_symbols_and_folding(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_flow(client, tmp_path / "outline.flow", FLOW)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(uri))
    )
    assert symbols is not None
    assert [(s.name, s.range.start.line) for s in symbols] == [
        ("main", 2),
        ("sales", 11),
        ("wrap_up", 15),
    ]
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=doc(uri))
    )
    assert folds is not None
    assert [(f.start_line, f.end_line) for f in folds] == [(2, 9), (4, 8), (11, 13), (15, 16)]


# --------------------------------------------------------------------------------------------
# Flows made of several files (`include`)


MAIN = """include "shared/common.flow"
voice "Telnyx.KokoroTTS.af"

main:
    answer
    say "Hello."
    goto goodbye
"""

COMMON = """goodbye:
    say "Goodbye."
    hangup
"""


async def test_steps_of_included_files(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    common = tmp_path / "shared" / "common.flow"
    common.write_text(COMMON)
    uri = await open_flow(client, tmp_path / "main.flow", MAIN)
    assert list(client.diagnostics[uri]) == []
    where = await definition(client, uri, at(6, 10))
    assert where == [types.Location(uri=common.as_uri(), range=types.Range(at(0, 0), at(0, 7)))]
    file = await definition(client, uri, at(0, 15))
    assert file == [types.Location(uri=common.as_uri(), range=types.Range(at(0, 0), at(0, 0)))]
    assert await renamed(client, uri, at(6, 10), "farewell") == {
        uri: [at(6, 9)],
        common.as_uri(): [at(0, 0)],
    }
    # From the included file, the open file that includes it is found too.
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(common.as_uri()),
            position=at(0, 2),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert found is not None
    assert sorted((loc.uri, loc.range.start.line) for loc in found) == sorted(
        [(common.as_uri(), 0), (uri, 6)]
    )


async def test_completion_offers_the_names_of_included_files(
    client: LanguageClient, tmp_path: Path
) -> None:
    # `goto ` (half typed: the line does not parse yet) offers the steps of the included file
    # too, as go to definition finds them; a condition offers its variables.
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.flow").write_text(
        COMMON + '\nremember:\n    set plan = "gold"\n    return\n'
    )
    text = MAIN + "    goto \n"
    uri = await open_flow(client, tmp_path / "main.flow", text)
    steps = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=at(7, 9))
    )
    assert isinstance(steps, types.CompletionList)
    assert [(i.label, i.detail) for i in steps.items] == [
        ("main", "step at line 4"),
        ("goodbye", "step at shared/common.flow, line 1"),
        ("remember", "step at shared/common.flow, line 5"),
    ]
    await change(client, uri, 2, MAIN + "    if \n")
    variables = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=at(7, 7))
    )
    assert isinstance(variables, types.CompletionList)
    assert "plan" in {i.label for i in variables.items}


async def test_hover_on_a_step_of_an_included_file(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.flow").write_text(COMMON)
    uri = await open_flow(client, tmp_path / "hover_included.flow", MAIN)
    text = await hover(client, uri, 6, 10)
    assert text.startswith("step `goodbye` (shared/common.flow, line 1)")
    assert 'say "Goodbye."' in text


async def test_saving_an_included_file_checks_the_open_files_that_include_it(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "shared").mkdir()
    common = tmp_path / "shared" / "common.flow"
    common.write_text(COMMON)
    uri = await open_flow(client, tmp_path / "includer.flow", MAIN)
    assert list(client.diagnostics[uri]) == []
    shared = await open_flow(client, common, COMMON)
    renamed_step = COMMON.replace("goodbye:", "farewell:")
    await change(client, shared, 2, renamed_step)
    assert list(client.diagnostics[uri]) == []  # not saved yet: `check` would not see it
    common.write_text(renamed_step)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=doc(shared)))
    async with asyncio.timeout(10):
        while not client.diagnostics[uri]:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    expected = check_source(Source(str(tmp_path / "includer.flow"), MAIN))
    assert [d.code for d in client.diagnostics[uri]] == [
        d.code for d in expected if d.file == str(tmp_path / "includer.flow")
    ]
    assert "FL101" in {d.code for d in client.diagnostics[uri]}


async def test_an_included_pipe_is_an_error_and_never_read(
    client: LanguageClient, tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "pipe.flow")
    text = MAIN.replace("shared/common.flow", "pipe.flow") + "\ngoodbye:\n    hangup\n"
    uri = await open_flow(client, tmp_path / "main.flow", text)
    (found,) = client.diagnostics[uri]
    assert found.code == "FL080" and "is not a regular file" in found.message
    # Renaming a step reads every file of the flow: the pipe counts as empty, at once.
    changes = await asyncio.wait_for(renamed(client, uri, at(6, 10), "farewell"), timeout=10)
    assert changes == {uri: [at(6, 9), at(8, 0)]}


async def test_hover_on_opening_hours_names_them_as_such(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = (
        'voice "Telnyx.KokoroTTS.af"\ntimezone "America/Chicago"\n\nhours office:\n'
        "    mon-fri 9:00-17:00\n\nmain:\n    answer\n    if open office:\n"
        '        say "Open."\n    hangup\n'
    )
    uri = await open_flow(client, tmp_path / "hours.flow", text)
    for line, column in ((3, 8), (8, 17)):
        shown = await hover(client, uri, line, column)
        assert shown == "opening hours `office` (line 4)"


async def test_hover_on_a_top_level_on_hangup_shows_its_own_entry(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = (
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    hangup\n\n'
        'on hangup:\n    log "gone"\n'
    )
    uri = await open_flow(client, tmp_path / "gone.flow", text)
    shown = await hover(client, uri, 6, 1)
    assert "on hangup: after the caller hangs up" in shown and "no_answer" not in shown
