"""The catalogue of lint rules: each rule's code, name, severity, documentation and check."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING

from attrs import field, frozen

from flowlang.diagnostics import Severity
from flowlang.source import Span

if TYPE_CHECKING:
    from flowlang.lint.context import Context

# One module per family of rules; the code's first digit names the family.
RULE_MODULES = (
    "flowlang.lint.steps",
    "flowlang.lint.call",
    "flowlang.lint.gather",
    "flowlang.lint.prompts",
    "flowlang.lint.variables",
    "flowlang.lint.ai",
    "flowlang.lint.loops",
    "flowlang.lint.texts",
    "flowlang.lint.comments",
    "flowlang.lint.data",
    "flowlang.lint.spoken",
    "flowlang.lint.hours",
    "flowlang.lint.reuse",
    "flowlang.lint.telephony",
)

FAMILIES = {
    "FL0": "syntax",
    "FL1": "steps and the flow",
    "FL2": "the call",
    "FL3": "gather",
    "FL4": "prompts",
    "FL5": "variables",
    "FL6": "ai_gather and assistant",
    "FL7": "loops",
    "FL8": "data, time, reuse, recordings, transfers, texts, queues and numbers",
}

DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


@frozen
class Finding:
    """What a rule's check reports: where, what is wrong (`message`), the fix (`help`)."""

    span: Span | None
    message: str
    label: str = ""
    help: str | None = None
    notes: tuple[str, ...] = ()


Check = Callable[["Context"], Iterable[Finding]]


@frozen
class Rule:
    """A lint rule. Its documentation is the check function's docstring, written as the
    sections of DOC_SECTIONS (`## What it does` ...), so `flowlang rule` and docs/rules agree.

    A `local` rule looks at one statement at a time: it reads only `ctx.statements()`,
    `ctx.of_type()` and `ctx.blocks()` (never the flow, its analysis or its source), so what
    it finds in a step depends on that step alone, and not on where the step stands: the
    language server reuses it for the steps an edit did not touch, or only moved
    (tests/lint/test_local_rules.py holds every local rule to it).
    """

    code: str
    name: str
    severity: Severity
    check: Check = field(repr=False)
    local: bool = False

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.check.__doc__ or "")

    def section(self, title: str) -> str:
        """The text of one `## title` section of the documentation ("" when absent)."""
        parts = re.split(r"^## (.+)$", self.doc, flags=re.MULTILINE)
        for heading, body in zip(parts[1::2], parts[2::2], strict=True):
            if heading.strip() == title:
                return body.strip()
        return ""

    @property
    def description(self) -> str:
        """The *What it does* paragraph, as one line."""
        return " ".join(self.section("What it does").split())

    @property
    def summary(self) -> str:
        """The first sentence of the description."""
        text = self.description
        end = re.search(r"\.(\s|$)", text)
        return text[: end.start() + 1] if end else text


_DECLARED: list[Rule] = []


def rule(
    code: str, name: str, severity: Severity, *, local: bool = False
) -> Callable[[Check], Check]:
    """Declare the decorated function as the check of rule `code` (`local`: see Rule)."""

    def register(check: Check) -> Check:
        _DECLARED.append(Rule(code=code, name=name, severity=severity, check=check, local=local))
        return check

    return register


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, sorted by code (importing the rule modules registers them)."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return tuple(sorted(_DECLARED, key=lambda r: r.code))


def find_rule(key: str) -> Rule | None:
    """The rule with that code (any case) or kebab-case name, None when there is none."""
    wanted = key.strip()
    for r in all_rules():
        if r.code == wanted.upper() or r.name == wanted.lower():
            return r
    return None
