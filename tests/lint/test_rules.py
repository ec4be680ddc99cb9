"""Each rule against its inline-annotated fixture: exactly the annotated findings are reported."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from flowlang.lint import check_source, lint
from flowlang.lint.registry import all_rules
from flowlang.source import Source, Span
from flowlang.syntax import nodes

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_FILES = sorted(FIXTURES.glob("*.flow"))
ANNOTATION = re.compile(r"#\s*(error|warning):\s*\[([^\]]*)\]\s*$")


def annotated(text: str) -> Counter[tuple[int, str, str]]:
    """(line, severity, code) for every `# error: [FL101]` / `# warning: [FL301, ...]`."""
    found: Counter[tuple[int, str, str]] = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        match = ANNOTATION.search(line)
        if match:
            for code in match.group(2).split(","):
                found[(number, match.group(1), code.strip())] += 1
    return found


def reported(source: Source) -> Counter[tuple[str, int, str, str]]:
    return Counter(
        (Path(d.file).name, d.span.line if d.span else 0, d.severity.value, d.code)
        for d in check_source(source)
    )


def annotated_files(path: Path) -> Counter[tuple[str, int, str, str]]:
    """The annotations of a fixture and of the files beside it named after it: its translation
    catalogs (`NAME.LANG.texts`) and the files it includes (`NAME.PART.include`)."""
    found: Counter[tuple[str, int, str, str]] = Counter()
    beside = [
        *path.parent.glob(f"{path.stem}.*.texts"),
        *path.parent.glob(f"{path.stem}.*.include"),
    ]
    for file in [path, *sorted(beside)]:
        for (line, severity, code), n in annotated(file.read_text(encoding="utf-8")).items():
            found[(file.name, line, severity, code)] += n
    return found


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
def test_fixture_reports_exactly_its_annotations(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Catalogs are found beside the flow, by the name it is checked under.
    monkeypatch.chdir(FIXTURES.parent)
    source = Source(str(path.relative_to(FIXTURES.parent)), path.read_text(encoding="utf-8"))
    assert reported(source) == annotated_files(path)


RULES = all_rules()


@pytest.mark.parametrize("code", [r.code for r in RULES], ids=[r.code for r in RULES])
def test_every_rule_has_a_fixture_that_triggers_it(code: str) -> None:
    path = FIXTURES / f"{code}.flow"
    assert path.exists(), f"add tests/lint/fixtures/{code}.flow"
    codes = {c for (_, _, _, c) in annotated_files(path)}
    assert code in codes


def test_annotation_reader_counts_repeated_codes() -> None:
    text = 'say "x"  # error: [FL303, FL303]\nlog "y"  # warning: [FL301]\n'
    assert annotated(text) == Counter(
        {(1, "error", "FL303"): 2, (2, "warning", "FL301"): 1}
    )


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_metadata_is_complete(rule: object) -> None:
    from flowlang.lint.registry import DOC_SECTIONS, Rule

    assert isinstance(rule, Rule)
    assert re.fullmatch(r"FL[1-8]\d\d", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
    for section in DOC_SECTIONS:
        assert rule.section(section), f"{rule.code} has no `## {section}` section"
    assert rule.summary.endswith(".")


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


def test_duplicate_handler_rule_sees_hand_built_trees_too() -> None:
    """A tree built without the parser (the parser already rejects misplaced handlers)."""
    span = Span(3, 5, 3, 20)
    on = nodes.On("timeout", (), (nodes.Hangup(span=span),), span=span)
    gather = nodes.Gather(prompt=(), handlers=(on, on), span=span)
    flow = nodes.Flow(
        steps=(nodes.Step(nodes.Name("main"), (nodes.Answer(span=span), gather), span=span),)
    )
    codes = [d.code for d in lint(flow, Source("t.flow", ""))]
    assert codes.count("FL106") == 1


def test_public_api_is_pinned() -> None:
    import flowlang.lint

    assert flowlang.lint.__all__ == ["check", "check_source", "lint"]


def test_unreachable_return_in_on_hangup_names_on_hangup() -> None:
    # A `return` after a `log` is reached in `on hangup:` (FL870 says so); after a
    # `transfer` there it never runs, and FL870 said it "is in ``", naming no step.
    text = (
        'main:\n    answer\n    hangup\n\non hangup:\n    transfer "+13125550100"\n    return\n'
    )
    messages = [d.message for d in check_source(Source("t.flow", text)) if d.code == "FL870"]
    assert messages == ["this `return` is in `on hangup:`, which no `call` runs"]
