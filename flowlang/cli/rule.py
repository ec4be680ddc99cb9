"""Explain a lint rule or a syntax error (`flowlang rule FL101`); list the rules; write docs."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "code",
        nargs="?",
        metavar="CODE",
        help="a rule code (FL101) or name (unknown-step), or a syntax error's code (FL004)",
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
    if found is not None:
        sys.stdout.write(f"{found.code} {found.name} ({found.severity.value})\n\n{found.doc}\n")
        return 0
    code = args.code.strip().upper()
    if code.startswith("FL0"):
        sys.stdout.write(_syntax_error(code))
        return 0
    raise UsageError(
        f"no rule `{args.code}`{_did_you_mean(args.code)}; run `flowlang rule` to list them"
        " (codes look like FL101; those starting with FL0 are syntax errors)"
    )


def _syntax_error(code: str) -> str:
    """What docs/errors.md says about syntax error `code`, and where to read it."""
    from flowlang.cli.inputs import UsageError
    from flowlang.lsp.reference import anchor, syntax_error

    try:
        section = syntax_error(code)
    except FileNotFoundError:
        return f"{code} is a syntax error, not a lint rule: see docs/errors.md\n"
    if section is None:
        raise UsageError(
            f"no syntax error `{code}`{_did_you_mean(code)}; codes starting with FL0 are"
            " syntax errors, each explained in docs/errors.md"
        )
    title = section.heading.split(":", 1)[1].strip()
    return (
        f"{code} {title} (syntax error)\n\n{section.body}\n\n"
        f"(docs/errors.md#{anchor(section.heading)})\n"
    )


def _did_you_mean(key: str) -> str:
    """` (did you mean `FL101`?)` for the rule names, rule codes or syntax error codes one typo
    (a key missed, added, changed or two swapped) from `key`; "" when none is, or too many."""
    import difflib

    from flowlang.lint.registry import all_rules
    from flowlang.lsp.reference import sections

    wanted = key.strip().upper()
    if not wanted.startswith("FL"):
        names = [r.name for r in all_rules()]
        close = difflib.get_close_matches(key.strip().lower(), names, n=1, cutoff=0.75)
        return f" (did you mean `{close[0]}`?)" if close else ""
    codes = {r.code for r in all_rules()}
    try:
        codes |= {s.heading.split(":", 1)[0] for s in sections("errors.md")}
    except FileNotFoundError:
        pass
    near = sorted(codes & _one_typo(wanted))
    # A code of the same family (FL0 syntax, FL1 steps, ...) first.
    near = [c for c in near if c[:3] == wanted[:3]] or near
    if not near or len(near) > 3:
        return ""
    shown = [f"`{c}`" for c in near]
    listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
    return f" (did you mean {listed}?)"


def _one_typo(code: str) -> set[str]:
    """The codes one typo away from `code` (FL then digits)."""
    digits = code[2:]
    keys = "0123456789"
    found = {digits[:i] + digits[i + 1 :] for i in range(len(digits))}
    found |= {
        digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :] for i in range(len(digits) - 1)
    }
    found |= {digits[:i] + k + digits[i + 1 :] for i in range(len(digits)) for k in keys}
    found |= {digits[:i] + k + digits[i:] for i in range(len(digits) + 1) for k in keys}
    return {"FL" + d for d in found} - {code}
