"""What every lint rule is handed: the flow, its source and the shared control-flow analysis."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from attrs import field, frozen

from flowlang.analysis import Analysis, analyze
from flowlang.source import Source
from flowlang.syntax import nodes

Block = tuple[nodes.Node, tuple[nodes.Node, ...]]


@frozen
class Context:
    """A parsed flow being linted: `flow`, its `source` text and its `analysis`. `block_list`
    holds every statement list with its owner (a Step, On, If or Elif), in source order: it is
    computed once, because every rule walks it."""

    flow: nodes.Flow
    source: Source
    analysis: Analysis
    block_list: tuple[Block, ...] = field(repr=False)
    statement_list: tuple[nodes.Node, ...] = field(repr=False)

    @classmethod
    def build(
        cls,
        flow: nodes.Flow,
        source: Source,
        analysis: Analysis | None = None,
        blocks: Iterable[Block] | None = None,
    ) -> Context:
        """The context of `flow` (`analysis` and `blocks`, when given, are the flow's own)."""
        if blocks is None:
            blocks = (block for unit in units(flow) for block in unit_blocks(unit))
        block_list = tuple(blocks)
        return cls(
            flow=flow,
            source=source,
            analysis=analyze(flow) if analysis is None else analysis,
            block_list=block_list,
            statement_list=tuple(stmt for _, body in block_list for stmt in body),
        )

    def blocks(self) -> Iterator[Block]:
        return iter(self.block_list)

    def statements(self) -> Iterator[nodes.Node]:
        """Every statement of the flow (nested ones included)."""
        return iter(self.statement_list)

    def of_type(self, *types: type[nodes.Node]) -> Iterator[nodes.Node]:
        for stmt in self.statement_list:
            if isinstance(stmt, types):
                yield stmt


def units(flow: nodes.Flow) -> list[nodes.Step | nodes.On]:
    """The top-level statement lists' owners: each step, then the top-level `on hangup:`."""
    found: list[nodes.Step | nodes.On] = list(flow.steps)
    if flow.on_hangup is not None:
        found.append(flow.on_hangup)
    return found


def unit_blocks(unit: nodes.Step | nodes.On) -> Iterator[Block]:
    """Every statement list of a step (or `on hangup:`) with its owner, in source order."""
    stack: list[Block] = [(unit, unit.body)]
    while stack:
        owner, body = stack.pop()
        yield owner, body
        nested = [pair for stmt in body for pair in _nested(stmt)]
        stack.extend(reversed(nested))


_WITH_HANDLERS = (
    nodes.Gather, nodes.AiGather, nodes.Assistant, nodes.Transfer, nodes.Record, nodes.Queue,
    nodes.Detect, nodes.Fetch,
)  # fmt: skip


def _nested(stmt: nodes.Node) -> list[Block]:
    if isinstance(stmt, nodes.If):
        out: list[Block] = [(stmt, stmt.body)]
        out += [(e, e.body) for e in stmt.elifs]
        if stmt.else_ is not None:
            out.append((stmt, stmt.else_))
        return out
    if isinstance(stmt, _WITH_HANDLERS):
        return [(on, on.body) for on in stmt.handlers]
    return []
