"""Flow versions: new calls get the file as it is now; calls in progress keep theirs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from pathlib import Path

import pytest

from flowlang.cli.inputs import read_source
from flowlang.compiler import compile_source
from flowlang.program import Program
from flowlang.runtime.events import CallInfo, Event
from flowlang.runtime.interpreter import Interpreter
from flowlang.serve.versions import FlowVersions
from flowlang.source import Source

ONE = 'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    say "one"\n    hangup\n'
TWO = ONE.replace('"one"', '"two"')


def write(path: Path, text: str, tick: int) -> None:
    path.write_text(text)
    # Some filesystems keep coarse modification times: make each version's stamp distinct.
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))


def test_a_changed_file_is_used_for_new_calls(tmp_path: Path) -> None:
    flow = tmp_path / "line.flow"
    write(flow, ONE, 1)
    first = compile_source(read_source(flow))
    versions = FlowVersions(first, flow)
    assert versions.current() is first
    write(flow, TWO, 2)
    second = versions.current()
    assert second.digest != first.digest
    assert second.source.text == TWO
    assert versions.get(first.digest) is first


def test_a_broken_edit_keeps_the_last_good_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flow = tmp_path / "line.flow"
    write(flow, ONE, 1)
    first = compile_source(read_source(flow))
    versions = FlowVersions(first, flow)
    write(flow, "main:\n    goto nowhere\n", 2)
    with caplog.at_level(logging.ERROR, logger="flowlang"):
        assert versions.current() is first
    (line,) = [json.loads(r.message) for r in caplog.records]
    assert line["event"] == "flow_reload_failed" and line["keeping"] == first.digest
    # Where the mistake is, as `check` would say it.
    assert line["error"].startswith("line 2, column 10: FL101 ")


def test_a_deleted_file_keeps_the_last_good_version(tmp_path: Path) -> None:
    flow = tmp_path / "line.flow"
    write(flow, ONE, 1)
    first = compile_source(read_source(flow))
    versions = FlowVersions(first, flow)
    flow.unlink()
    assert versions.current() is first


def test_a_pipe_in_place_of_the_file_keeps_the_last_good_version_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flow = tmp_path / "line.flow"
    write(flow, ONE, 1)
    first = compile_source(read_source(flow))
    versions = FlowVersions(first, flow)
    flow.unlink()
    os.mkfifo(flow)
    with caplog.at_level(logging.ERROR, logger="flowlang"):
        reading = threading.Thread(target=versions.current, daemon=True)
        reading.start()
        reading.join(timeout=10)
        if reading.is_alive():  # it waits for a writer: be one, so the thread can end
            os.close(os.open(flow, os.O_WRONLY | os.O_NONBLOCK))
            reading.join()
            pytest.fail("reloading the flow waited on a named pipe")
    assert versions.current() is first
    assert any("not a regular file" in r.message for r in caplog.records)


def test_after_a_restart_an_older_version_comes_from_the_store() -> None:
    old = compile_source(Source("line.flow", ONE))
    new = compile_source(Source("line.flow", TWO))
    saved = {old.digest: ("line.flow", ONE)}

    async def load(digest: str) -> tuple[str, str] | None:
        return saved.get(digest)

    versions = FlowVersions(new, None, load)
    assert versions.get(old.digest) is None
    found = asyncio.run(versions.load(old.digest))
    assert found is not None and found.digest == old.digest
    assert versions.get(old.digest) is found
    assert asyncio.run(versions.load("0" * 64)) is None


MAIN = (
    'include "shared/common.flow"\nvoice "Telnyx.KokoroTTS.af"\n\n'
    "main:\n    answer\n    call greet\n    hangup\n"
)
COMMON = 'voice "Telnyx.KokoroTTS.af"\n\ngreet:\n    say "one"\n'


def spoken(program: Program) -> list[str]:
    """What a caller hears on one call of `program`, answering and listening to the end."""
    interpreter = Interpreter(program)
    out = interpreter.start(CallInfo("c", "+15550001111", "+15550002222"))
    said = []
    while out.end is None:
        command = out.commands[-1]
        if command.action == "speak":
            said.append(command.body["payload"])
        kind = "call.answered" if command.action == "answer" else "call.speak.ended"
        payload = {"call_control_id": "c", "client_state": command.body["client_state"]}
        out = interpreter.handle(out.state, Event(kind, payload))
    return said


def test_a_version_covers_every_included_file(tmp_path: Path) -> None:
    flow = tmp_path / "line.flow"
    common = tmp_path / "shared" / "common.flow"
    common.parent.mkdir()
    write(flow, MAIN, 1)
    write(common, COMMON, 1)
    first = compile_source(read_source(flow))
    assert [s.name for s in first.source.included] == [str(common)]
    versions = FlowVersions(first, flow)
    # Changing only the included file makes a new version for new calls...
    write(common, COMMON.replace('"one"', '"two"'), 2)
    second = versions.current()
    assert second.digest != first.digest
    assert spoken(second) == ["two"]
    # ...while calls in progress keep theirs, even rebuilt from the store after a restart.
    assert versions.get(first.digest) is first
    saved = {first.digest: (first.source.name, first.source.stored())}

    async def load(digest: str) -> tuple[str, str] | None:
        return saved.get(digest)

    restarted = FlowVersions(second, flow, load)
    rebuilt = asyncio.run(restarted.load(first.digest))
    assert rebuilt is not None and rebuilt.digest == first.digest
    assert spoken(rebuilt) == ["one"]


def test_a_changed_catalog_is_a_new_version_for_new_calls(tmp_path: Path) -> None:
    flow = tmp_path / "line.flow"
    catalog = tmp_path / "line.es-US.texts"
    languages = 'languages:\n    "en-US"\n    "es-US" voice "AWS.Polly.Lupe-Neural"\n'
    text = ONE.replace("\nmain:", "\n" + languages + "\nmain:", 1)
    write(flow, text, 1)
    write(catalog, '"one" = "uno"\n', 1)
    first = compile_source(read_source(flow))
    versions = FlowVersions(first, flow)
    write(catalog, '"one" = "un"\n', 2)
    second = versions.current()
    assert second.digest != first.digest
    assert dict(dict(second.translations)["es-US"])["one"].text == "un"
    assert versions.get(first.digest) is first
