"""`flowlang check --format sarif`: a SARIF 2.1.0 log, with rule metadata for code scanning."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flowlang import __version__
from flowlang.diagnostics import Diagnostic, Severity
from flowlang.lint import repository
from flowlang.lint.registry import FAMILIES, Rule, all_rules
from flowlang.lint.report import Report
from flowlang.source import Span

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning"}
# Relative paths are relative to the repository's root (see repository.root).
SRCROOT = "%SRCROOT%"


def _markdown(rule: Rule) -> str:
    return f"# {rule.code} {rule.name}\n\n{rule.doc}\n"


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.description},
        # No `helpUri`: it must be an absolute URI, and the rule pages have no public address;
        # `help` carries the whole page.
        "help": {"text": rule.doc, "markdown": _markdown(rule)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": [FAMILIES[rule.code[:3]]]},
    }


def syntax_descriptor(code: str) -> dict[str, Any]:
    text = "The file is not valid .flow syntax, so it cannot be checked further."
    return {
        "id": code,
        "name": "syntax-error",
        "shortDescription": {"text": text},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": text},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": [FAMILIES["FL0"]]},
    }


def artifact_location(path: str, root: Path) -> dict[str, str]:
    """Where `path` is, as SARIF wants it: a URI, so with spaces and other characters
    percent-encoded; relative to SRCROOT, the repository's `root`, for a file inside it, else
    an absolute `file:` URI."""
    inside = repository.relative(path, root)
    if inside is None:
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": quote(inside), "uriBaseId": SRCROOT}


def _folder_uri(folder: Path) -> str:
    uri = folder.as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _result(d: Diagnostic, span: Span | None, index: int, root: Path) -> dict[str, Any]:
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    location: dict[str, Any] = {"artifactLocation": artifact_location(d.file, root)}
    if span is not None:
        location["region"] = {
            "startLine": span.line,
            "startColumn": span.column,
            "endLine": span.end_line,
            "endColumn": span.end_column,
        }
    return {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": LEVELS[d.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
    }


def render(report: Report) -> str:
    descriptors = [rule_descriptor(r) for r in all_rules()]
    index = {r.code: i for i, r in enumerate(all_rules())}
    for d in report.diagnostics:
        if d.code not in index:
            index[d.code] = len(descriptors)
            descriptors.append(syntax_descriptor(d.code))
    # The files checked, then the files their findings are in (included files, translation
    # catalogs).
    checked = [f.source.name for f in report.files]
    names = list(dict.fromkeys([*checked, *(d.file for d in report.diagnostics)]))
    root = repository.root(names)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "flowlang",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": _folder_uri(root)}},
                "artifacts": [
                    {"location": artifact_location(name, root), "mimeType": "text/plain"}
                    for name in names
                ],
                "results": [
                    _result(d, checked.utf16_span(d), index[d.code], root)
                    for checked in report.files
                    for d in checked.diagnostics
                ],
                # A file that could not be read: the results are those of the others only.
                "invocations": [
                    {
                        "executionSuccessful": not report.unreadable,
                        "toolExecutionNotifications": [
                            {"level": "error", "message": {"text": problem}}
                            for problem in report.problems
                        ],
                    }
                ],
                # Columns as GitHub code scanning counts them. SARIF 2.1.0 (3.14.27) has no
                # default unit: a log with results must name it.
                "columnKind": "utf16CodeUnits",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
