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

from flowlang.cli.inputs import UsageError

log = logging.getLogger("flowlang.serve.app")

# A worker that dies sooner than this after its start is restarted only after a pause, so a
# worker that cannot start (its store is unreachable) does not spin.
_QUICK_DEATH = 2.0
# After this many quick deaths in a row the workers cannot start at all: the server stops
# (exit status 2) rather than restart them for ever behind a service manager that thinks it
# is running.
QUICK_DEATHS_ALLOWED = 5
# The exit status of a worker that could not start (`flowlang serve`'s status for that too).
CANNOT_START = 2


def supervise(count: int, serve: Callable[[], int], quick: float = _QUICK_DEATH) -> int:
    """Fork `count` workers that each run `serve()`, restart any that dies, and on SIGTERM or
    SIGINT pass the signal on and wait for them all. Returns the exit status: 0 when told to
    stop, 2 when the workers kept dying as they started."""
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
                code = serve()
            except SystemExit as exc:
                # uvicorn's way to say the app could not start (its reason is logged already).
                code = exc.code if isinstance(exc.code, int) else 1
                if code:
                    log.error(json.dumps(
                        {"event": "worker_failed", "pid": os.getpid(), "status": code}
                    ))
            except UsageError as exc:
                log.error(json.dumps(
                    {"event": "worker_failed", "pid": os.getpid(), "error": str(exc)}
                ))
                code = CANNOT_START
            except BaseException:  # noqa: BLE001 - reported, then the worker exits
                log.exception(json.dumps({"event": "worker_failed", "pid": os.getpid()}))
                code = 1
            finally:
                logging.shutdown()
                sys.stderr.flush()
            os._exit(code)
        children[pid] = time.monotonic()
        log.info(json.dumps({"event": "worker_started", "pid": pid}))

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(count):
            spawn()
        return _watch(children, spawn, lambda: stopping, stop, quick)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _watch(
    children: dict[int, float],
    spawn: Callable[[], None],
    stopping: Callable[[], bool],
    stop: Callable[[int, FrameType | None], None],
    quick: float,
) -> int:
    """Restart the workers that die until told to stop; 2 when they keep dying as they start
    (then the others are stopped, and waited for like on any stop)."""
    quick_deaths = 0
    failed = False
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        started = children.pop(pid, None)
        if started is None or stopping():
            continue
        code = os.waitstatus_to_exitcode(status)
        log.warning(json.dumps({"event": "worker_died", "pid": pid, "status": code}))
        # A worker that could not start says so with status 2 (its reason is logged); with two
        # workers and the pause below, one's quick death is only seen after the pause, so the
        # status counts, not only the time it lived.
        if code != CANNOT_START and time.monotonic() - started >= quick:
            quick_deaths = 0
        else:
            quick_deaths += 1
            if quick_deaths >= QUICK_DEATHS_ALLOWED:
                log.error(json.dumps({
                    "event": "workers_cannot_start",
                    "deaths": quick_deaths,
                    "hint": "each worker stopped as it started: the lines before say why",
                }))
                failed = True
                stop(signal.SIGTERM, None)
                continue
            time.sleep(quick)
        if not stopping():
            spawn()
    return 2 if failed else 0
