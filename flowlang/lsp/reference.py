"""Documentation for hovers and links, read from docs/language.md and docs/errors.md."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from attrs import frozen

_WORD = re.compile(r"\w+")


@frozen
class Section:
    """One `## heading` of the reference and its text."""

    heading: str
    body: str

    @property
    def words(self) -> tuple[str, ...]:
        """The words the heading names before its colon: `if, elif, else` or `gather`."""
        return tuple(_WORD.findall(self.heading.split(":")[0]))

    def summary(self) -> str:
        """The heading, the first example and the first paragraph after it."""
        parts = [f"**{self.heading}**"]
        example = re.search(r"```flow\n.*?```", self.body, flags=re.DOTALL)
        rest = self.body
        if example is not None:
            parts.append(example.group())
            rest = self.body[example.end() :]
        paragraph = next((p.strip() for p in rest.split("\n\n") if p.strip()), "")
        if paragraph and not paragraph.startswith("|"):
            parts.append(paragraph)
        return "\n\n".join(parts)

    def summary_of_error(self) -> str:
        """A syntax error's heading, what it means and its fix (docs/errors.md)."""
        paragraphs = [p.strip() for p in self.body.split("\n\n")]
        meaning = next((p for p in paragraphs if p and not p.startswith("```")), "")
        at = self.body.find("**Fix:**")
        fix = "" if at < 0 else self.body[at:].split("\n\n")[0].strip()
        return "\n\n".join(part for part in (f"**{self.heading}**", meaning, fix) if part)

    def rows(self, word: str) -> str:
        """The table rows of this section whose first cell shows `word` (`timeout D`,
        `on invalid: ...`), each under its table's header; "" when there are none."""
        shown: list[str] = []
        for table in re.findall(r"(?:^\|.*\n?)+", self.body, flags=re.MULTILINE):
            lines = table.rstrip("\n").split("\n")
            rows = [row for row in lines[2:] if _shows(row.split("|")[1], word)]
            if rows:
                shown.append("\n".join([*lines[:2], *rows]))
        return "\n\n".join(shown)

    def mention(self, word: str) -> str:
        """The first paragraph or list item that shows `word` in code; "" when none does."""
        for piece in re.split(r"\n\s*\n|\n(?=- |\d+\. )", self.body):
            if not piece.startswith(("|", "```")) and _shows(piece, word):
                return piece.strip()
        return ""


def _shows(text: str, word: str) -> bool:
    """Whether a piece of code (between backquotes) in `text` has `word` in it."""
    pattern = re.compile(r"\b" + re.escape(word) + r"\b")
    return any(pattern.search(code) for code in re.findall(r"`([^`\n]+)`", text))


@cache
def sections(page: str = "language.md") -> tuple[Section, ...]:
    """The `## ` sections of a page of docs/."""
    text = docs_path(page).read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return tuple(
        Section(h.strip(), b.strip()) for h, b in zip(parts[1::2], parts[2::2], strict=True)
    )


def docs_path(page: str) -> Path:
    """A page of docs/: inside the installed package, else in the source tree."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "docs" / page, package.parent / "docs" / page):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"flowlang's documentation page {page} is missing (looked in {package})"
    )


def syntax_error(code: str) -> Section | None:
    """The section of docs/errors.md about syntax error `code` (`FL001`), None if it has none."""
    for s in sections("errors.md"):
        if s.heading.startswith(f"{code}:"):
            return s
    return None


def anchor(heading: str) -> str:
    """The fragment that links to a heading, as Markdown renderers make it."""
    kept = re.sub(r"[^\w\- ]", "", heading.lower())
    return kept.replace(" ", "-")


def keyword_doc(word: str, head: str | None) -> str | None:
    """Markdown about keyword `word`, written on a line that `head` starts (for an `on` line,
    the keyword of the block it belongs to). None when the reference says nothing about it."""
    all_sections = sections()
    if word == head:
        for s in all_sections:
            if s.words[:1] == (word,):
                return s.summary()
    by_heading = [s for s in all_sections if word in _WORD.findall(s.heading) and word != "on"]
    if head is not None:
        for s in all_sections:
            if s.words[:1] == (head,) and (rows := s.rows(word) or s.mention(word)):
                return f"**{s.heading}**\n\n{rows}"
    if by_heading and (head is None or word == head):
        return by_heading[0].summary()
    for s in all_sections:
        if rows := s.rows(word):
            return f"**{s.heading}**\n\n{rows}"
    if by_heading:
        return by_heading[0].summary()
    for s in all_sections:
        if mention := s.mention(word):
            return f"**{s.heading}**\n\n{mention}"
    return None
