"""Explain a lint rule (`flowlang rule FL101`), list them all, or write docs/rules/."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "code", nargs="?", metavar="CODE", help="a rule code (FL101) or name (unknown-step)"
    )
    parser.add_argument(
        "--write-docs",
        metavar="FOLDER",
        help="write one Markdown page per rule into FOLDER (docs/rules)",
    )


def run(args: argparse.Namespace) -> int:
    from flowlang.cli.inputs import UsageError
    from flowlang.lint.registry import all_rules, find_rule

    if args.write_docs:
        from pathlib import Path

        from flowlang.lint.docs import write

        folder = Path(args.write_docs)
        try:
            written = write(folder)
        except OSError as exc:
            blocked = next((p for p in (folder, *folder.parents) if p.exists()), folder)
            if not blocked.is_dir():
                raise UsageError(
                    f"--write-docs {args.write_docs}: {blocked} is a file, not a folder;"
                    " give a folder to write the pages into (such as docs/rules)"
                ) from None
            raise UsageError(
                f"--write-docs {args.write_docs}: cannot write the pages"
                f" ({exc.strerror or exc})"
            ) from None
        print(f"wrote {len(written)} files to {args.write_docs}")
        return 0
    if args.code is None:
        for r in all_rules():
            print(f"{r.code}  {r.severity.value:<7}  {r.name:<28}  {r.summary}")
        return 0
    found = find_rule(args.code)
    if found is None:
        raise UsageError(
            f"no rule `{args.code}`; run `flowlang rule` to list them (codes look like FL101)"
        )
    sys.stdout.write(f"{found.code} {found.name} ({found.severity.value})\n\n{found.doc}\n")
    return 0
