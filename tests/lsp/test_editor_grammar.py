"""The VS Code extension's files: the TextMate grammar knows every keyword of the Lark grammar,
and highlights the annotated fixtures as they say (vscode-tmgrammar-test, run with node)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from flowlang.lsp.grammar import keywords

EXTENSION = Path(__file__).resolve().parents[2] / "editors" / "vscode"
TM_GRAMMAR = EXTENSION / "syntaxes" / "flowlang.tmLanguage.json"


def _keyword_groups() -> dict[str, list[str]]:
    """Scope name -> the words of each `\\b(?:a|b|c)\\b` keyword pattern of the grammar."""
    grammar = json.loads(TM_GRAMMAR.read_text(encoding="utf-8"))
    groups: dict[str, list[str]] = {}
    for pattern in grammar["repository"]["keywords"]["patterns"]:
        match = re.fullmatch(r"\\b\(\?:([\w|]+)\)\\b", pattern["match"])
        assert match is not None, f"keyword pattern is not a plain list of words: {pattern}"
        groups[pattern["name"]] = match.group(1).split("|")
    return groups


def test_every_keyword_of_the_lark_grammar_is_highlighted_once() -> None:
    groups = _keyword_groups()
    listed = [word for words in groups.values() for word in words]
    language = set(keywords())
    missing = sorted(language - set(listed))
    assert not missing, (
        f"keywords of grammar/flowlang.lark that {TM_GRAMMAR.name} does not highlight: "
        f"{missing}; add each to one group of repository.keywords"
    )
    stale = sorted(set(listed) - language)
    assert stale == [], f"the TextMate grammar highlights words that are not keywords: {stale}"
    assert len(listed) == len(set(listed)), "a keyword is in two groups"


def test_keyword_patterns_match_whole_words_only() -> None:
    grammar = json.loads(TM_GRAMMAR.read_text(encoding="utf-8"))
    for pattern in grammar["repository"]["keywords"]["patterns"]:
        regex = re.compile(pattern["match"])
        for word in re.findall(r"\w+", pattern["match"].removeprefix("\\b(?:")):
            if word == "b":
                continue
            assert regex.search(f"  {word} ")
            assert not regex.search(f"{word}x"), word


def test_extension_manifest_points_at_its_files() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    assert language["extensions"] == [".flow"]
    config = json.loads((EXTENSION / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"] == {"lineComment": "#"}
    assert re.search(config["indentationRules"]["increaseIndentPattern"], '    on digits "1":')
    assert not re.search(config["indentationRules"]["increaseIndentPattern"], '    say "a: b"')
    (grammar,) = manifest["contributes"]["grammars"]
    assert (
        json.loads((EXTENSION / grammar["path"]).read_text(encoding="utf-8"))["scopeName"]
        == (grammar["scopeName"])
    )
    assert (EXTENSION / manifest["main"]).is_file()
    lock = json.loads((EXTENSION / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]


def test_extension_client_is_valid_javascript() -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed to check the extension's client"
    result = subprocess.run(
        [node, "--check", str(EXTENSION / "extension.js")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_highlighting_matches_the_annotated_fixtures() -> None:
    npm = shutil.which("npm")
    assert npm is not None, "node and npm are needed for the TextMate grammar test"
    assert (EXTENSION / "node_modules" / "vscode-tmgrammar-test").is_dir(), (
        "editors/vscode/node_modules is missing: run `bash scripts/test-deps`"
    )
    result = subprocess.run(
        [npm, "test", "--silent"], cwd=EXTENSION, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "run successfuly" in result.stdout
