"""Where each step, variable and `hours` block of a flow is defined and used, with the spans."""

from __future__ import annotations

import attrs
from attrs import frozen

from flowlang.analysis import BUILTIN_VARIABLES
from flowlang.source import Span
from flowlang.syntax import nodes

STEP = "step"
VARIABLE = "variable"
HOURS = "hours"


@frozen
class Occurrence:
    """One written name: its `kind` (step, variable or hours), the `name`, where it stands,
    and whether it is the definition (a step's header, a `set`, an `into`, `hours NAME:`)."""

    kind: str
    name: str
    span: Span
    definition: bool
    owner: nodes.Node


@frozen
class NameIndex:
    """Every occurrence of every step, variable and `hours` name in one flow, in source order."""

    occurrences: tuple[Occurrence, ...]

    @classmethod
    def build(cls, flow: nodes.Flow) -> NameIndex:
        found: list[Occurrence] = []
        for step in flow.steps:
            _add(found, STEP, step.name, True, step)
        for node in nodes.walk(flow):
            found.extend(_occurrences_in(node))
        return cls(tuple(sorted(found, key=lambda o: (o.span.line, o.span.column))))

    def at(self, line: int, column: int) -> Occurrence | None:
        """The occurrence under 1-based `line`:`column` (its last character included)."""
        for o in self.occurrences:
            s = o.span
            if s.line == line and s.column <= column <= s.end_column:
                return o
        return None

    def of(self, kind: str, name: str) -> list[Occurrence]:
        return [o for o in self.occurrences if o.kind == kind and o.name == name]

    def definitions(self, kind: str, name: str) -> list[Occurrence]:
        return [o for o in self.of(kind, name) if o.definition]

    def names(self, kind: str) -> list[str]:
        """The names of that kind defined in the flow, first definition first."""
        seen: dict[str, None] = {}
        for o in self.occurrences:
            if o.kind == kind and o.definition:
                seen.setdefault(o.name)
        return list(seen)

    def step_lines(self) -> dict[str, int]:
        return {o.name: o.span.line for o in reversed(self.occurrences) if o.kind == STEP}


def _add(
    found: list[Occurrence], kind: str, name: nodes.Name, definition: bool, owner: nodes.Node
) -> None:
    if name.span is not None:
        found.append(Occurrence(kind, name.value, name.span, definition, owner))


def _occurrences_in(node: nodes.Node) -> list[Occurrence]:
    """The names a node writes itself. Which field means what is read from the field's name,
    so constructs added later (`call`, a `record ... into`) are indexed without a change here:
    a `target` names a step, an `into` (and the name a `set` assigns) defines a variable."""
    found: list[Occurrence] = []
    if isinstance(node, nodes.Var | nodes.Interp):
        if node.span is not None and node.path[0] not in BUILTIN_VARIABLES:
            first = node.path[0]
            span = Span.point(node.span.line, node.span.column, len(first))
            found.append(Occurrence(VARIABLE, first, span, False, node))
        return found
    if isinstance(node, nodes.Set):
        _add(found, VARIABLE, node.name, True, node)
        return found
    if isinstance(node, nodes.Hours | nodes.OpenTest):
        # `hours office:` defines the name; `open office` uses it.
        _add(found, HOURS, node.name, isinstance(node, nodes.Hours), node)
        return found
    for a in attrs.fields(type(node)):
        value = getattr(node, a.name)
        if not isinstance(value, nodes.Name):
            continue
        if a.name == "target":
            _add(found, STEP, value, False, node)
        elif a.name == "into":
            _add(found, VARIABLE, value, True, node)
    return found
