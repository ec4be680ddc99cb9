"""What `check` keeps from one version of a file to the next, so an edit costs what it changed."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from flowlang.analysis import Analysis, Lowered, analyze, lower
from flowlang.lint.context import Block, Context, unit_blocks, units
from flowlang.lint.registry import Finding, Rule
from flowlang.source import Source
from flowlang.syntax import nodes
from flowlang.syntax.incremental import IncrementalParser


@frozen
class Linted:
    """A step (or the top-level `on hangup:`) as last linted: its statement lists, and what
    each local rule (by code) found in it."""

    owner: nodes.Step | nodes.On
    blocks: tuple[Block, ...]
    findings: dict[str, list[Finding]]


class CheckCache:
    """Hand one to `check` for every version of one file (the language server keeps one per
    open document): `check` then parses only the top-level pieces an edit changed, and runs
    the local rules (Rule.local) only on the steps it changed. The rules about the whole flow
    (steps reached, `goto` targets, variables, loops) run on the whole flow each time, on a
    control-flow analysis that is kept while edits leave the graph's shape alone. A flow that
    includes other files is linted whole. What `check` returns is the same as without a
    cache (tests/test_incremental.py)."""

    def __init__(self) -> None:
        self.parser = IncrementalParser()
        # The units of the last version, by the identity of their node: a piece that did not
        # change keeps its nodes. Only the last version's are kept, so memory stays flat.
        self.units: dict[int, Linted] = {}
        self.codes: tuple[str, ...] = ()
        # Each unit lowered into the control-flow graph (with the inputs the first step gets),
        # and the last analysis: an edit that leaves the graph's shape alone keeps its results.
        self.lowered: dict[int, tuple[nodes.Step | nodes.On, tuple[str, ...], Lowered]] = {}
        self.analysis: Analysis | None = None
        # How many units the last lint ran the local rules on, for the tests.
        self.linted = 0

    def context(self, flow: nodes.Flow, source: Source, local: Sequence[Rule]) -> Context:
        """The context of `flow` for the rules; the local rules' findings are kept per unit
        (`findings` gives them), found again only for the units that are new."""
        codes = tuple(r.code for r in local)
        if codes != self.codes:
            self.units = {}
            self.codes = codes
        analysis = self.analyze(flow)
        kept: dict[int, Linted] = {}
        self.linted = 0
        for owner in units(flow):
            unit = self.units.get(id(owner))
            if unit is not None and unit.owner is owner:
                kept[id(owner)] = unit
                continue
            blocks = tuple(unit_blocks(owner))
            # A step that only moved (lines were added or removed above it) and had nothing
            # to report has nothing to report where it is now either.
            old = self.parser.moved.get(id(owner))
            was = None if old is None else self.units.get(id(old))
            if was is not None and was.owner is old and not any(was.findings.values()):
                unit = Linted(owner, blocks, was.findings)
            else:
                self.linted += 1
                alone = Context.build(flow, source, analysis, blocks)
                unit = Linted(owner, blocks, {r.code: list(r.check(alone)) for r in local})
            kept[id(owner)] = unit
        self.units = kept
        return Context.build(flow, source, analysis, (b for u in kept.values() for b in u.blocks))

    def analyze(self, flow: nodes.Flow) -> Analysis:
        """The analysis of `flow`, lowering again only the units that are new or moved."""
        lowered: dict[int, tuple[nodes.Step | nodes.On, tuple[str, ...], Lowered]] = {}

        def known(unit: nodes.Step | nodes.On, base: int, inputs: tuple[str, ...]) -> Lowered:
            last = self.lowered.get(id(unit))
            if last is not None and last[0] is unit and last[1] == inputs and last[2].base == base:
                part = last[2]
            else:
                part = lower(unit, base, inputs)
            lowered[id(unit)] = (unit, inputs, part)
            return part

        self.analysis = analyze(flow, known, self.analysis)
        self.lowered = lowered
        return self.analysis

    def findings(self, rule: Rule) -> list[Finding]:
        """What local `rule` found in the flow of the last `context`, unit after unit."""
        return [f for unit in self.units.values() for f in unit.findings[rule.code]]
