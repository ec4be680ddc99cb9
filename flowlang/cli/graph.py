"""Draw a flow's steps, choices and endings as a Mermaid or Graphviz (DOT) diagram."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow", metavar="FLOW", help="the .flow file to draw")
    parser.add_argument(
        "--format",
        choices=("mermaid", "dot"),
        default="mermaid",
        help="mermaid (default; GitHub shows it in Markdown) or dot (Graphviz)",
    )


def run(args: argparse.Namespace) -> int:
    from flowlang.cli.inputs import read_source
    from flowlang.diagnostics import render_text
    from flowlang.errors import FlowSyntaxError
    from flowlang.graph import to_dot, to_mermaid
    from flowlang.includes import merge
    from flowlang.syntax.parser import parse_source

    source = read_source(args.flow)
    try:
        flow = parse_source(source)
    except FlowSyntaxError as exc:
        for d in exc.diagnostics:
            sys.stderr.write(render_text(d, source))
        return 1
    if flow.includes:
        # The included files' steps are drawn too: a called step once, with its call sites.
        merged = merge(source, flow)
        for d in merged.diagnostics:
            sys.stderr.write(render_text(d, merged.source))
        if merged.diagnostics:
            return 1
        flow = merged.flow
    sys.stdout.write(to_dot(flow) if args.format == "dot" else to_mermaid(flow))
    return 0
