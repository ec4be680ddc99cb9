"""The layering of STYLE.md, enforced: the pure core imports no I/O, and start-up stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flowlang"

# The interpreter is pure: events in, commands out. Network, crypto, clocks, randomness and the
# Telnyx HTTP layer live at the edges (simulator, server).
FORBIDDEN_IN_RUNTIME = {
    "flowlang.serve.telnyx",
    "flowlang.serve.app",
    "flowlang.serve.store",
    "httpx",
    "nacl",
    "uvicorn",
    "socket",
    "random",
    "time",
    "datetime",
    "asyncio",
    "sqlite3",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def forbidden(names: set[str]) -> set[str]:
    return {
        n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN_IN_RUNTIME)
    }


RUNTIME_FILES = sorted((PACKAGE / "runtime").rglob("*.py"))


@pytest.mark.parametrize("path", RUNTIME_FILES, ids=[p.name for p in RUNTIME_FILES])
def test_runtime_modules_do_no_io(path: Path) -> None:
    assert forbidden(imported_modules(path)) == set()


def test_forbidden_import_scan_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import httpx\nfrom flowlang.serve.telnyx.client import X\nimport time\n")
    assert forbidden(imported_modules(bad)) == {"httpx", "flowlang.serve.telnyx.client", "time"}


HEAVY = ("httpx", "nacl", "uvicorn", "hypothesis", "sqlite3", "jsonschema")


def test_cli_start_up_imports_no_heavy_dependency() -> None:
    # `flowlang check` must start fast: building the command line may not pull in the server's
    # or the fuzzer's dependencies.
    code = (
        "import sys, flowlang.cli as c; c.build_parser(); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_nothing_reads_outside_the_clone() -> None:
    # A plain clone must pass on its own: the Telnyx spec is vendored in spec/telnyx/, so no code
    # may reach for a folder beside the checkout.
    root = PACKAGE.parent
    for folder in ("flowlang", "tests", "scripts", "bench"):
        for path in (root / folder).rglob("*.py"):
            if path == Path(__file__).resolve():
                continue  # this test names what it looks for
            text = path.read_text(encoding="utf-8")
            assert "ROOT.parent" not in text and "shared/telnyx" not in text, path
