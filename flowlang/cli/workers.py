"""`flowlang serve --workers N`: N processes forked after the port is bound, kept running."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("flowlang.serve.app")

# A worker that dies sooner than this after its start is restarted only after a pause, so a
# worker that cannot start (its store is unreachable) does not spin.
_QUICK_DEATH = 2.0


def supervise(count: int, serve: Callable[[], None]) -> None:
    """Fork `count` workers that each run `serve()`, restart any that dies, and on SIGTERM or
    SIGINT pass the signal on and wait for them all."""
    children: dict[int, float] = {}
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                serve()
            except BaseException:  # noqa: BLE001 - reported, then the worker exits
                log.exception(json.dumps({"event": "worker_failed", "pid": os.getpid()}))
                code = 1
            finally:
                logging.shutdown()
                sys.stderr.flush()
            os._exit(code)
        children[pid] = time.monotonic()
        log.info(json.dumps({"event": "worker_started", "pid": pid}))

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(count):
        spawn()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        started = children.pop(pid, None)
        if started is None or stopping:
            continue
        log.warning(
            json.dumps(
                {"event": "worker_died", "pid": pid, "status": os.waitstatus_to_exitcode(status)}
            )
        )
        if time.monotonic() - started < _QUICK_DEATH:
            time.sleep(_QUICK_DEATH)
        if not stopping:
            spawn()
