"""Generated files stay in sync: docs/rules/ with the docstrings, telnyx_data with the spec."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from flowlang.lint import docs, telnyx_data
from tests.openapi import spec_path

ROOT = Path(__file__).resolve().parents[2]
RULE_DOCS = ROOT / "docs" / "rules"
# The same spec the command-body checks read (spec/telnyx/ unless FLOWLANG_TELNYX_SPEC names one).
SPEC = spec_path()
PAGES = docs.pages()


@pytest.mark.parametrize("target", ["good.flow", "good.flow/x", "good.flow/x/y"])
def test_write_docs_into_a_file_is_one_line_exit_2(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from flowlang.cli import main

    (tmp_path / "good.flow").write_text("main:\n    answer\n")
    assert main(["rule", "--write-docs", str(tmp_path / target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path / 'good.flow'} is a file, not a folder" in err
    assert (tmp_path / "good.flow").read_text() == "main:\n    answer\n"


@pytest.mark.parametrize("name", sorted(PAGES), ids=sorted(PAGES))
def test_rule_page_is_generated_from_the_docstring(name: str) -> None:
    path = RULE_DOCS / name
    assert path.exists(), "run `flowlang rule --write-docs docs/rules`"
    assert path.read_text(encoding="utf-8") == PAGES[name], (
        "docs/rules is out of date: run `flowlang rule --write-docs docs/rules`"
    )


def test_no_stale_rule_pages() -> None:
    assert {p.name for p in RULE_DOCS.glob("*.md")} == set(PAGES)


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_telnyx_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_telnyx_data_module_matches_the_openapi_subset() -> None:
    generator = load_generator()
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    assert Path(telnyx_data.__file__).read_text(encoding="utf-8") == generator.render(spec), (
        "run `.venv/bin/python scripts/gen_telnyx_data.py`"
    )


def test_telnyx_facts_are_the_documented_ones() -> None:
    assert "en-US" in telnyx_data.SPEAK_LANGUAGES and "de-DE" in telnyx_data.SPEAK_LANGUAGES
    assert telnyx_data.PAYLOAD_MAX_CHARS == 3000
    assert (telnyx_data.DIGITS_MIN, telnyx_data.DIGITS_MAX) == (1, 128)
    assert telnyx_data.TRANSFER_TIMEOUT_SECS == (5, 600)


def test_linter_does_not_read_the_spec_at_run_time() -> None:
    package = ROOT / "flowlang"
    for path in [*package.joinpath("lint").rglob("*.py"), package / "analysis.py"]:
        assert "openapi-subset.json" not in path.read_text(encoding="utf-8"), path


def test_graph_doc_shows_the_current_drawing_of_its_example() -> None:
    from flowlang.graph import to_mermaid
    from flowlang.syntax.parser import parse

    text = (ROOT / "examples" / "acme_main.flow").read_text(encoding="utf-8")
    page = (ROOT / "docs" / "graph.md").read_text(encoding="utf-8")
    assert "```mermaid\n" + to_mermaid(parse(text)) + "```" in page
