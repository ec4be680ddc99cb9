"""What every lint rule is handed: the flow, its source and the shared control-flow analysis."""

from __future__ import annotations

from collections.abc import Iterator

from attrs import frozen

from flowlang import nodes
from flowlang.analysis import Analysis
from flowlang.source import Source


@frozen
class Context:
    """A parsed flow being linted: `flow`, its `source` text and its `analysis`."""

    flow: nodes.Flow
    source: Source
    analysis: Analysis

    def blocks(self) -> Iterator[tuple[nodes.Node, tuple[nodes.Node, ...]]]:
        """Every statement list with its owner (a Step, On, If or Elif), in source order."""
        roots: list[tuple[nodes.Node, tuple[nodes.Node, ...]]] = [
            (step, step.body) for step in self.flow.steps
        ]
        if self.flow.on_hangup is not None:
            roots.append((self.flow.on_hangup, self.flow.on_hangup.body))
        stack = list(reversed(roots))
        while stack:
            owner, body = stack.pop()
            yield owner, body
            nested = [pair for stmt in body for pair in _nested(stmt)]
            stack.extend(reversed(nested))

    def statements(self) -> Iterator[nodes.Node]:
        """Every statement of the flow (nested ones included), in source order of blocks."""
        for _, body in self.blocks():
            yield from body

    def of_type(self, *types: type[nodes.Node]) -> Iterator[nodes.Node]:
        for stmt in self.statements():
            if isinstance(stmt, types):
                yield stmt


def _nested(stmt: nodes.Node) -> list[tuple[nodes.Node, tuple[nodes.Node, ...]]]:
    if isinstance(stmt, nodes.If):
        out: list[tuple[nodes.Node, tuple[nodes.Node, ...]]] = [(stmt, stmt.body)]
        out += [(e, e.body) for e in stmt.elifs]
        if stmt.else_ is not None:
            out.append((stmt, stmt.else_))
        return out
    if isinstance(stmt, nodes.Gather | nodes.AiGather | nodes.Assistant):
        return [(on, on.body) for on in stmt.handlers]
    return []
