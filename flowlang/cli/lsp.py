"""Run the language server for editors, speaking LSP over standard input and output."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="talk over standard input and output (the default and only way; editors pass it)",
    )
    parser.add_argument(
        "--full-check",
        action="store_true",
        help="check the whole file after every edit instead of only what the edit changed "
        "(slower; the same findings; bench/bench_lsp.py compares the two)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        from flowlang.lsp.server import serve_stdio
    except ImportError as exc:
        from flowlang.cli.inputs import UsageError

        raise UsageError(
            f"the language server needs pygls ({exc.name} is not installed): "
            "pip install 'flowlang[lsp]'"
        ) from None
    serve_stdio(incremental=not args.full_check)
    return 0
