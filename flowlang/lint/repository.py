"""The root of the repository `flowlang check` ran in, from which GitHub names the files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def root(paths: Iterable[str]) -> Path:
    """The folder to name `paths` from: the GitHub runner's checkout (GITHUB_WORKSPACE) when it
    is set and holds every path; else the nearest folder, from here up, with a `.git` in it
    (a repository, a worktree or a submodule); else the folder flowlang runs in."""
    here = Path.cwd()
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and all(relative(p, Path(workspace)) is not None for p in paths):
        return Path(os.path.abspath(workspace))
    return next((folder for folder in (here, *here.parents) if (folder / ".git").exists()), here)


def relative(path: str, folder: Path) -> str | None:
    """`path` from `folder`, folders separated by `/`; None when it is not inside `folder`."""
    full, base = os.path.abspath(path), os.path.abspath(folder)
    try:
        inside = os.path.commonpath([full, base]) == base
    except ValueError:  # on another drive (Windows)
        inside = False
    if not inside:
        return None
    return Path(os.path.relpath(full, base)).as_posix()
