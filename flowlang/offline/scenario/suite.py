"""Finding scenario files and the flow each one tests, ready for `flowlang test` and pytest."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from attrs import frozen

from flowlang.diagnostics import Diagnostic, Severity, render_text
from flowlang.errors import FlowError
from flowlang.offline.scenario.syntax import (
    BAD_LAYOUT,
    NOT_A_STEP,
    SUFFIX,
    Expect,
    ScenarioFile,
    parse_scenarios,
)
from flowlang.source import BOM, Source, Span, not_found, not_utf8, read_regular


class NoScenarios(Exception):
    """A path names no scenario file (a `.flow` without one beside it, or a folder with none)."""


def find(paths: Iterable[str]) -> list[Path]:
    """The scenario files named: `.scenarios` files, the one beside each `.flow` file named,
    and every one under a folder (sorted). NoScenarios when a path gives none."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.rglob(f"*{SUFFIX}") if p.is_file())
            if not inside:
                raise NoScenarios(f"{raw}: no {SUFFIX} files in this folder")
            found.extend(inside)
        elif path.suffix == ".flow":
            beside = path.with_suffix(SUFFIX)
            if not beside.is_file():
                raise NoScenarios(f"{raw}: no scenario file {beside} beside this flow")
            found.append(beside)
        elif path.is_file():
            found.append(path)
        else:
            raise NoScenarios(not_found(str(raw)))
    # A file named twice (itself and through its folder) runs once, under its first name.
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    return list(unique.values())


@frozen
class Loaded:
    """A scenario file ready to run: its scenarios, the flow's path and compiled program, or the
    `problems` (rendered diagnostics) that stop it from running."""

    path: Path
    file: ScenarioFile | None = None
    flow_path: Path | None = None
    program: Any = None
    problems: str = ""

    @property
    def ok(self) -> bool:
        return self.file is not None and self.program is not None


def _read(path: Path) -> Source | str:
    try:
        data = read_regular(str(path))
    except OSError as exc:
        return f"{path}: cannot read the file ({exc.strerror or exc})\n"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return not_utf8(str(path), data, exc) + "\n"
    return Source(str(path), text.removeprefix(BOM))


def load(path: Path) -> Loaded:
    """Parse `path`, then find and compile the flow it tests; never raises for bad input."""
    from flowlang.compiler import compile_source

    source = _read(path)
    if isinstance(source, str):
        return Loaded(path, problems=source)
    try:
        file = parse_scenarios(source)
    except FlowError as exc:
        return Loaded(path, problems=_render(exc.diagnostics, source))
    flow_path = path.parent / file.flow if file.flow else path.with_suffix(".flow")
    flow_source = _read(flow_path)
    if isinstance(flow_source, str):
        diagnostic = Diagnostic(
            BAD_LAYOUT,
            Severity.ERROR,
            f"the flow these scenarios test, {flow_path}, cannot be read",
            source.name,
            file.flow_span,
            "this flow",
            help=f'put the flow beside this file as {path.with_suffix(".flow").name}, '
            'or name it with a `flow "NAME.flow"` line',
        )
        return Loaded(path, file, flow_path, problems=render_text(diagnostic, source))
    try:
        program = compile_source(flow_source)
    except FlowError as exc:
        return Loaded(
            path, file, flow_path, problems=_render(exc.diagnostics, exc.source or flow_source)
        )
    unknown = _unknown_steps(file, program, flow_path) + _input_mistakes(file, program)
    if unknown:
        return Loaded(path, file, flow_path, problems=_render(unknown, source))
    return Loaded(path, file, flow_path, program)


def _unknown_steps(file: ScenarioFile, program: Any, flow_path: Path) -> list[Diagnostic]:
    """An `expect step NAME` whose step the flow does not have: found before running, where it
    is written, with the steps there are (at run time it could only say nothing like it
    happened)."""
    import difflib

    names = [step.name for step in program.steps]
    found: list[Diagnostic] = []
    for scenario in file.scenarios:
        for expect in scenario.steps:
            if not isinstance(expect, Expect) or expect.kind != "step":
                continue
            if program.step(expect.value) is not None:
                continue
            span = expect.span
            line = file.source.line(span.line)
            at = line.rfind(expect.value, span.column - 1, span.end_column - 1)
            if at >= 0:
                span = Span(span.line, at + 1, span.line, at + 1 + len(expect.value))
            guess = next(iter(difflib.get_close_matches(expect.value, names, n=1)), None)
            listed = ", ".join(f"`{name}`" for name in names[:20])
            if len(names) > 20:
                listed += f" and {len(names) - 20} more"
            found.append(Diagnostic(
                NOT_A_STEP,
                Severity.ERROR,
                f"`{expect.value}` is not a step of {flow_path.name}",
                file.source.name,
                span,
                "no such step",
                (f"did you mean `{guess}`? " if guess else "")
                + f"the steps of {flow_path.name} are {listed}",
            ))
    return found


def _input_mistakes(file: ScenarioFile, program: Any) -> list[Diagnostic]:
    """A scenario's `with` line naming no `input` of the flow. (A value left out is allowed:
    a scenario may not care about it; the flow then reads it as empty, with a warning.)"""
    outbound = getattr(program, "outbound", None)
    declared = tuple(outbound.inputs) if outbound is not None else ()
    inputs = (
        "the flow's inputs are " + ", ".join(f"`{name}`" for name in declared)
        if declared else "the flow has no `input` lines"
    )
    found: list[Diagnostic] = []
    for scenario in file.scenarios:
        given = [name for name, _ in scenario.inputs]
        problems = [
            (f"`with {name}`: the flow has no `input {name}`", f"remove it; {inputs}")
            for name in given if name not in declared
        ]
        found += [
            Diagnostic(BAD_LAYOUT, Severity.ERROR, message, file.source.name, scenario.span,
                       "inputs of this scenario", help=help_)
            for message, help_ in problems
        ]
    return found


def _render(diagnostics: Iterable[Diagnostic], source: Source) -> str:
    return "".join(render_text(d, source) + "\n" for d in diagnostics)
