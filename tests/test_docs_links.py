"""Every relative link in the README and docs/ points at a file or folder that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    links = [m.group(1).split("#")[0] for m in LINK.finditer(text)]
    return [link for link in links if link and not re.match(r"[a-z]+:", link)]


def test_link_finder_sees_relative_links_only(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("[a](x.md) [b](https://e.com) [c](y.md#part) [d](#top)\n```\n[e](z.md)\n```\n")
    assert relative_links(page) == ["x.md", "y.md"]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    missing = [link for link in relative_links(page) if not (page.parent / link).exists()]
    assert missing == []


# `pip install flowlang` or `pip install 'flowlang[lsp]'`, not `"flowlang @ git+URL"`.
BARE_INSTALL = re.compile(r"""pip install\s+['"]?flowlang(\[\w+\])?['"]?(?![-\w.]|\s*@)""")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_no_page_installs_flowlang_by_name_from_pypi(page: Path) -> None:
    # `flowlang` on PyPI is another project: install from a folder or the repository's URL.
    found = BARE_INSTALL.findall(page.read_text(encoding="utf-8"))
    assert found == []
