"""A store of real recorded calls, for the tests of `flowlang debug --call`."""

from __future__ import annotations

import pytest

from flowlang.cli.inputs import read_source
from flowlang.compiler import compile_source
from tests.server.served import serve_calls
from tests.sim.helpers import EXAMPLES

CALL_ID = "v3:recorded-clinic-call"


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store holding two real calls of examples/clinic.flow, served by the server's runner: one
    to its end (an invalid key, then 1 and a date of birth), one left waiting for a key."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'calls.db'}"
    program = compile_source(read_source(EXAMPLES / "clinic.flow"))
    serve_calls(url, program, [(CALL_ID, ["5", "1", "01311980"]),
                               ("v3:unfinished-call", ["5"])])
    return url
