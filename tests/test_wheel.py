"""`pip install .` gives a working flowlang: the wheel holds everything the commands read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_built_wheel_checks_and_simulates_an_example_outside_the_source_tree(
    tmp_path: Path,
) -> None:
    # Built offline with the build backend in this environment (no build isolation), so the
    # test reaches no package index.
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("flowlang-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    assert "flowlang/grammar/flowlang.lark" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "flowlang = flowlang.cli:entry" in (site / entry_points).read_text(encoding="utf-8")
    flow = tmp_path / "work" / "acme_main.flow"
    flow.parent.mkdir()
    shutil.copy(ROOT / "examples" / "acme_main.flow", flow)
    # The unpacked wheel comes first on the path, before this environment's editable install
    # (which still provides the dependencies); the script makes sure flowlang is the wheel's.
    env = {**os.environ, "PYTHONPATH": str(site)}
    script = (
        "import flowlang, sys; from flowlang.cli import entry; "
        "assert flowlang.__file__.startswith(sys.argv[1]), flowlang.__file__; "
        "sys.argv[1:2] = []; entry()"
    )

    def flowlang(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, str(site), *args],
            cwd=flow.parent,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    checked = flowlang("check", flow.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    simulated = flowlang("simulate", flow.name, "--input", "1")
    assert simulated.returncode == 0, simulated.stderr
    assert "transfer to +13125550001" in simulated.stdout
