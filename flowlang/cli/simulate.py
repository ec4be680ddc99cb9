"""Play a call offline with a scripted (or interactive) caller and show what happens."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from flowlang.cli.inputs import UsageError, read_source
from flowlang.source import BOM

DEFAULT_CALLER = "+15550001111"
DEFAULT_CALLED = "+15550002222"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow", metavar="FLOW", help="the .flow file to run")
    given = parser.add_mutually_exclusive_group()
    given.add_argument(
        "--input",
        dest="inputs",
        action=_Append,
        default=None,
        metavar="X",
        help="what the caller does next: keys (1, 1234#), timeout, hangup, ai={...}, "
        "ai-invalid={...}, key=0 or end; once per thing the flow waits for",
    )
    given.add_argument(
        "--inputs",
        dest="inputs_file",
        default=None,
        metavar="FILE",
        help="read the caller's inputs from FILE, one a line (`-`: standard input); blank "
        "lines and lines starting with # are skipped",
    )
    add_call_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "jsonl"),
        default="text",
        help="text: a transcript to read (default); jsonl: every command's "
        "exact body, then how the call ended",
    )


def add_call_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that set up an offline call: who calls whom, when, in which language, with
    which `input` values (shared by `simulate` and `debug`)."""
    parser.add_argument(
        "--from",
        dest="caller",
        default=DEFAULT_CALLER,
        metavar="NUMBER",
        help=f"the calling number (default {DEFAULT_CALLER}; an outbound flow's own "
        "`outbound from` number)",
    )
    parser.add_argument(
        "--to",
        dest="called",
        default=DEFAULT_CALLED,
        metavar="NUMBER",
        help=f"the number called (default {DEFAULT_CALLED})",
    )
    parser.add_argument(
        "--with",
        dest="values",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="the value of an outbound flow's `input NAME` line (repeatable)",
    )
    parser.add_argument(
        "--language",
        default=None,
        metavar="LANGUAGE",
        help="the language the caller starts in, for a flow that speaks several "
        "(default: its first)",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        default=None,
        help="when the call happens, for opening hours and `now`: "
        "2026-11-23T14:05 in the flow's timezone, or with an offset "
        "(2026-11-23T14:05-06:00); default: now",
    )


def call_values(args: argparse.Namespace, program: Any) -> dict[str, str]:
    """The `--with NAME=VALUE` values, by name; a usage error, naming the flow's inputs, for
    one without `=`, without a name, named twice, or naming no `input` line of the flow."""
    outbound = getattr(program, "outbound", None)
    declared: tuple[str, ...] = tuple(outbound.inputs) if outbound is not None else ()
    if declared:
        names = ", ".join(f"`{name}`" for name in declared)
        inputs = f"the flow's inputs are {names}"
        example = f"--with {declared[0]}=VALUE"
    else:
        inputs = (
            "this flow has no `input` lines (only a flow that calls out, with "
            "`outbound from`, takes values: see docs/calling-out.md)"
        )
        example = "--with NAME=VALUE"
    values: dict[str, str] = {}
    for given in args.values:
        name, equals, value = given.partition("=")
        name = name.strip()
        if not equals:
            raise UsageError(
                f"--with {given}: no value; write it as NAME=VALUE, like {example} "
                f"({inputs})"
            )
        if not name:
            raise UsageError(f"--with {given}: no name before the `=`, like {example} ({inputs})")
        if name not in declared:
            raise UsageError(f"--with {given}: no input `{name}` in the flow; {inputs}")
        if name in values:
            raise UsageError(f"--with {name}=...: given twice; give each input once ({inputs})")
        values[name] = value
    missing = [name for name in declared if name not in values]
    if missing:
        # Allowed, to try a flow quickly; but a placed call without them is refused.
        listed = " ".join(f"--with {name}=VALUE" for name in missing)
        print(
            f"flowlang: warning: no value for the flow's `input {missing[0]}`"
            f"{' and more' if len(missing) > 1 else ''}, so it is empty here; the server"
            f" refuses to place a call without it: give {listed}",
            file=sys.stderr,
        )
    return values


def check_language(args: argparse.Namespace, program: Any) -> None:
    """A usage error when `--language` names a language the flow does not speak."""
    spoken = [language for language, _, _ in program.languages]
    if args.language is not None and args.language not in spoken:
        says = ", ".join(spoken) if spoken else "only its one language (it has no `languages:`)"
        raise UsageError(f"--language {args.language}: the flow speaks {says}")


class _Append(argparse.Action):
    """argparse's `append`, without its copy of the list on every use (quadratic: 20,000
    `--input` took 11.7 s)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        items = getattr(namespace, self.dest, None)
        if items is None:
            items = []
            setattr(namespace, self.dest, items)
        items.append(values)


def take_inputs(words: list[str]) -> tuple[list[str], list[str]]:
    """`words` without their `--input X` / `--input=X`, and those inputs, in one pass.

    argparse looks for the next option among all the ones still to come for each option it
    reads, so 20,000 `--input` took 11.7 s; taken out first, they cost nothing."""
    rest: list[str] = []
    inputs: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            rest += words[i:]
            break
        if word == "--input" and i + 1 < len(words):
            inputs.append(words[i + 1])
            i += 2
            continue
        if word.startswith("--input="):
            inputs.append(word.removeprefix("--input="))
        else:
            rest.append(word)
        i += 1
    return rest, inputs


def _read_inputs(name: str) -> list[tuple[int, str]]:
    """The inputs in file `name` (`-`: standard input), one a line, each with its line number
    (for the errors); blank lines and `#` comments are skipped."""
    if name == "-":
        text = sys.stdin.read().removeprefix(BOM)
    else:
        text = read_source(name).text
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def run(args: argparse.Namespace) -> int:
    from flowlang.offline.simulator import InputError, parse_input

    source = read_source(args.flow)
    if args.inputs_file is not None and args.inputs is not None:
        raise UsageError("give the inputs with --input or with --inputs FILE, not both")
    # The line of each input in the --inputs file, to say where a wrong one is.
    args.input_lines = None
    if args.inputs_file is not None:
        numbered = _read_inputs(args.inputs_file)
        args.inputs = [text for _, text in numbered]
        args.input_lines = [number for number, _ in numbered]
    actions = []
    for position, text in enumerate(args.inputs or (), start=1):
        try:
            actions.append(parse_input(text))
        except InputError as exc:
            raise UsageError(f"{_input_option(args, position)} {exc}") from None
    program = load_program(source, args.format)
    if program is None:
        return 1
    args.at = when(args.at, program)
    check_language(args, program)
    from flowlang.offline.simulator import calling_number

    # An outbound flow's call comes from its `outbound from` number (unless --from says).
    args.caller = calling_number(program, args.caller)
    values = call_values(args, program)
    if args.inputs is None and args.format == "text" and sys.stdin.isatty():
        return interactive(
            program, args.caller, args.called, sys.stdin, sys.stdout, args.language, args.at,
            values,
        )
    return scripted(program, actions, args, values)


def _input_option(args: argparse.Namespace, position: int | None) -> str:
    """How an error names the `position`-th input: `--input`, or the --inputs file and line."""
    lines = getattr(args, "input_lines", None)
    if args.inputs_file is None or lines is None:
        return "--input"
    if position is None or not 0 < position <= len(lines):
        return f"--inputs {args.inputs_file}:"
    return f"--inputs {args.inputs_file}: line {lines[position - 1]}:"


def when(text: str | None, program: Any) -> Any:
    """The moment `--at` names (None: now), read in the flow's timezone; a usage error when
    it is not a time."""
    if text is None:
        return None
    from flowlang.clock import parse_at

    try:
        return parse_at(text, program.timezone)
    except ValueError as exc:
        raise UsageError(f"--at: {exc}") from None


def load_program(source: Any, fmt: str = "text", doing: str = "simulate") -> Any:
    """The compiled flow, or None after printing its syntax or lint errors (and, for `jsonl`,
    an `end` line saying so on standard output, so a reader of the lines learns why); `doing`
    is what could not be done (`cannot debug: 2 errors to fix first`)."""
    from flowlang.compiler import compile_source
    from flowlang.diagnostics import render_text
    from flowlang.errors import FlowError

    try:
        return compile_source(source)
    except FlowError as exc:
        for diagnostic in exc.diagnostics:
            sys.stderr.write(render_text(diagnostic, exc.source or source))
        count = len(exc.diagnostics)
        message = f"cannot {doing}: {count} error{'s' if count != 1 else ''} to fix first"
        sys.stderr.write(f"{source.name}: {message}\n")
        if fmt == "jsonl":
            first = exc.diagnostics[0] if exc.diagnostics else None
            where = f" (line {first.span.line}: {first.message})" if first and first.span else ""
            end = {"end": "error", "message": message + where}
            sys.stdout.write(json.dumps(end, ensure_ascii=False) + "\n")
        return None


def scripted(
    program: Any, actions: list[Any], args: argparse.Namespace, values: dict[str, str]
) -> int:
    from flowlang.offline.conversation import render
    from flowlang.offline.simulator import InputError, simulate

    try:
        transcript = simulate(
            program, actions, args.caller, args.called, args.language, args.at, values,
        )
    except InputError as exc:
        # The call so far helps to see why the input does not fit; the error still exits 2.
        if args.format == "text" and exc.transcript is not None:
            sys.stdout.write(f"Call from {args.caller} to {args.called}\n")
            sys.stdout.write(render(exc.transcript, program).rstrip().rsplit("\n", 1)[0])
            sys.stdout.write("\n")
            sys.stdout.flush()
        where = "" if args.inputs_file is None else _input_option(args, exc.number) + " "
        raise UsageError(f"{where}{exc}") from None
    if args.format == "jsonl":
        sys.stdout.write(transcript.jsonl())
    else:
        sys.stdout.write(f"Call from {args.caller} to {args.called}\n")
        sys.stdout.write(render(transcript, program))
    return 1 if transcript.end.reason == "error" else 0


def prompt(sim: Any) -> str:
    """What the person can type now: the prompt of what the flow waits for."""
    from flowlang.offline.phone import INPUTS

    kind = sim.needs
    if kind == "gather":
        return "Press keys (like 1 or 1234#), or type timeout, hangup or quit"
    inputs = INPUTS[kind]
    choices = list(inputs.choices)
    if sim.phone.state == "ended" and "hangup" in choices:
        # The caller has hung up already (a voicemail's `on saved:` can still ask its backend).
        choices.remove("hangup")
    doing = inputs.doing[0].upper() + inputs.doing[1:]
    return f"{doing}: type {', '.join(choices)} or quit"


def interactive(
    program: Any,
    caller: str,
    called: str,
    stdin: TextIO,
    stdout: TextIO,
    language: str | None = None,
    at: Any = None,
    values: dict[str, str] | None = None,
) -> int:
    """Play the call with a person typing what the caller does, one prompt per wait."""
    from flowlang.offline.conversation import conversation, ending, show, still_waiting
    from flowlang.offline.simulator import InputError, Simulation, parse_input

    sim = Simulation.begin(program, caller, called, language=language, at=at, inputs=values)
    stdout.write(f"Call from {caller} to {called} (type quit to stop)\n")
    shown = 0
    while True:
        transcript = sim.transcript()
        lines = conversation(transcript, program)
        for line in lines[shown:-1]:
            stdout.write(show(line, program.source) + "\n")
        shown = len(lines) - 1
        kind = sim.needs
        if kind is None:
            if sim.stuck:
                stdout.write(
                    f"\nThe flow is stuck: it waits for {sim.waiting or 'something'}, "
                    "which nothing the caller does can complete.\n"
                )
                return 0
            stdout.write("\n" + ending(lines, transcript.end, program.source) + "\n")
            return 1 if transcript.end.reason == "error" else 0
        stdout.write(prompt(sim) + "\n> ")
        stdout.flush()
        typed = stdin.readline()
        if not typed or typed.strip() in ("quit", "q", "exit"):
            stdout.write(f"\n{still_waiting(kind)}.\n")
            return 0
        text = typed.strip()
        if not text or text in ("help", "?"):
            continue  # the prompt, written again, says what the caller can do now
        try:
            action = parse_input(text)
        except InputError:
            # Only what fits this wait: the full list would offer AI inputs to a flow with none.
            stdout.write(f"`{text}` is not something the caller can do now.\n")
            continue
        try:
            sim.give(action)
        except InputError as exc:
            stdout.write(f"{exc}\n")
