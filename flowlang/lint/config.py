"""`[tool.flowlang]` in the nearest pyproject.toml: `select`, `ignore` and `strict` for `check`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrs import frozen

from flowlang.lint.selection import SelectionError, check_known, parse_codes

KEYS = ("select", "ignore", "strict")


class ConfigError(ValueError):
    """A pyproject.toml that cannot be read, or a `[tool.flowlang]` value of the wrong kind."""


@frozen
class Config:
    """The settings of one `[tool.flowlang]` table; `path` is the file (None: no file found)."""

    path: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    strict: bool = False


def find_pyproject(start: Path) -> Path | None:
    """The pyproject.toml in `start` (a folder) or the nearest folder above it."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _codes(table: dict[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{where}: `{key}` must be a list of rule codes, like ["FL101", "FL3"]')
    from flowlang.lint.registry import all_rules

    try:
        # An empty `select` would check nothing; an empty `ignore` drops nothing, which is fine.
        fix = (
            "remove the `select` line to check every rule, or list codes like "
            '["FL101", "FL3"]'
        )
        codes = parse_codes(value, f"{where}: {key}", fix if key == "select" else None)
        check_known(codes, [r.code for r in all_rules()], f"{where}: {key}")
        return codes
    except SelectionError as exc:
        raise ConfigError(str(exc)) from None


def load(path: Path) -> Config:
    """Read `[tool.flowlang]` from the pyproject.toml at `path` (defaults when it has none)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    table = data.get("tool", {}).get("flowlang", {})
    where = f"{path} [tool.flowlang]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting `{unknown[0]}` (known: {', '.join(KEYS)})"
        )
    strict = table.get("strict", False)
    if not isinstance(strict, bool):
        raise ConfigError(f"{where}: `strict` must be true or false")
    return Config(
        path=path,
        select=_codes(table, "select", where),
        ignore=_codes(table, "ignore", where) or (),
        strict=strict,
    )


class ConfigFinder:
    """The Config for each file checked: the nearest pyproject.toml, each read only once."""

    def __init__(self) -> None:
        self._by_file: dict[Path, Config] = {}

    def for_file(self, file: Path) -> Config:
        found = find_pyproject(file.resolve().parent)
        if found is None:
            return Config()
        if found not in self._by_file:
            self._by_file[found] = load(found)
        return self._by_file[found]
