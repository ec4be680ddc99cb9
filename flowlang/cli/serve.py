"""Run the webhook server that answers Telnyx and runs FLOW on real phone calls."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from flowlang.cli.inputs import UsageError, read_source, whole_number

if TYPE_CHECKING:
    import socket

    from flowlang.program import Program
    from flowlang.serve.telnyx.signature import Verifier
    from flowlang.source import Source

DEFAULT_STORE = "sqlite:///flowlang.db"
DEFAULT_API_BASE = "https://api.telnyx.com/v2"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """Seconds from `90`, `90s`, `0.5s`, `30m`, `12h` or `7d` (for --retention and the like)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: write a number with s, m, h or d, such as 30m or 12h"
        )
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def workers(text: str) -> int:
    """A number of worker processes, 1 to 64 (for --workers)."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers: write 1 to 64")
    return int(text)


class _JsonLines(logging.Formatter):
    """One JSON object per line, whoever logs. flowlang's own lines are JSON already and go out
    as they are; a traceback is added to its line as `traceback`, and a library's message
    becomes `{"event": "library", "logger": ..., "level": ..., "text": ...}`."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        ours = record.name.startswith("flowlang") and text.startswith("{")
        if ours and not record.exc_info:
            return text
        import json

        fields = json.loads(text) if ours else {
            "event": "library",
            "logger": record.name,
            "level": record.levelname.lower(),
            "text": text,
        }
        if record.exc_info:
            fields["traceback"] = self.formatException(record.exc_info)
        return json.dumps(fields, ensure_ascii=False)


class _LineBatcher(logging.Handler):
    """Writes log lines in batches: those logged during one turn of the event loop go out in
    one write at its end, so a busy server does not pay a system call per line (outside a loop,
    each line is written at once)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.pending: list[str] = []
        self.scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        self.pending.append(self.format(record))
        if self.scheduled:
            return
        import asyncio  # here, not at the top: `flowlang check` builds this module's parser

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self.scheduled = True
        loop.call_soon(self._write)

    def _write(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self.scheduled = False
            self.flush()

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()


def start_logging(stream: TextIO) -> logging.Handler:
    """Send flowlang's JSON log lines to `stream`, one per line, batched per event-loop turn.

    Returns the handler, for `stop_logging` when the server stops."""
    # The logging HOWTO's "Optimization" settings: the lines are JSON made by flowlang itself,
    # which never uses the caller's file, thread or process that logging would look up per line.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = _LineBatcher(stream)
    handler.setFormatter(_JsonLines())
    atexit.register(handler.flush)
    log = logging.getLogger("flowlang")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    # Warnings of the libraries underneath (the PostgreSQL pool, uvicorn) are JSON lines too.
    logging.getLogger().addHandler(handler)
    return handler


def stop_logging(handler: logging.Handler) -> None:
    """Write what is pending and detach `handler`, so nothing later writes to its stream
    (which may be closed by then: a test's captured output, a pipe)."""
    handler.flush()
    logging.getLogger("flowlang").removeHandler(handler)
    logging.getLogger().removeHandler(handler)
    atexit.unregister(handler.flush)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow", metavar="FLOW", help="the .flow file to run on incoming calls")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=whole_number, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--store",
        default=DEFAULT_STORE,
        metavar="URL",
        help=f"where calls in progress are kept ({DEFAULT_STORE})",
    )
    parser.add_argument(
        "--api-base",
        default=DEFAULT_API_BASE,
        metavar="URL",
        help=f"the Telnyx API to send commands to ({DEFAULT_API_BASE})",
    )
    parser.add_argument(
        "--insecure-skip-verify",
        action="store_true",
        help="accept webhooks without checking Telnyx's signature (local experiments only)",
    )
    parser.add_argument(
        "--retention",
        type=duration,
        default=3600.0,
        metavar="DURATION",
        help="how long finished calls, and their history for `flowlang calls` and"
        " `flowlang replay`, are kept before they are cleaned up (1h)",
    )
    parser.add_argument(
        "--redact",
        action="store_true",
        help="mask the callers' and called numbers (all but the last 4 digits) in the calls'"
        " history, so they are never written there",
    )
    parser.add_argument(
        "--workers",
        type=workers,
        default=1,
        metavar="N",
        help="worker processes sharing the port and the store (1); use a postgresql:// store"
        " for more than one",
    )
    parser.add_argument(
        "--give-up-after",
        type=duration,
        default=120.0,
        metavar="DURATION",
        help="how long a command is retried while Telnyx cannot be reached before the call is"
        " hung up (2m)",
    )
    parser.add_argument(
        "--lease",
        type=duration,
        default=30.0,
        metavar="DURATION",
        help="how long a worker holds the commands it took; a dead worker's are taken over"
        " after it (30s)",
    )
    parser.add_argument(
        "--command-timeout",
        type=duration,
        default=5.0,
        metavar="DURATION",
        help="how long one request to Telnyx may take (5s)",
    )
    parser.add_argument(
        "--connection-id",
        default=os.environ.get("TELNYX_CONNECTION_ID", ""),
        metavar="ID",
        help="the Call Control application calls are placed from (POST /calls); default "
        "$TELNYX_CONNECTION_ID",
    )


def run(args: argparse.Namespace) -> int:
    from flowlang.diagnostics import Severity, render_text
    from flowlang.lint import check_source

    # The flow first: a missing file is the mistake to hear about before any setting.
    source = read_source(args.flow)
    public_key = os.environ.get("TELNYX_PUBLIC_KEY", "").strip()
    if not public_key and not args.insecure_skip_verify:
        raise UsageError(
            "TELNYX_PUBLIC_KEY is not set: copy the public key from the Telnyx portal"
            " (or pass --insecure-skip-verify for a local experiment)"
        )
    verifier: Verifier | None = None
    if public_key and not args.insecure_skip_verify:
        from flowlang.serve.telnyx.signature import PublicKeyError, Verifier, load_public_key

        try:
            verifier = Verifier(load_public_key(public_key))
        except PublicKeyError as exc:
            raise UsageError(f"{exc}: copy the public key from the Telnyx portal") from None
    if os.environ.get("FLOWLANG_DIAL_TOKEN", "").strip() and not args.connection_id:
        raise UsageError(
            "FLOWLANG_DIAL_TOKEN is set, so this server would place calls, but it has no"
            " --connection-id (or TELNYX_CONNECTION_ID): give the id of your Call Control"
            " application from the Telnyx portal"
        )
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (0 to 65535)")
    for option in ("give_up_after", "lease", "command_timeout"):
        if getattr(args, option) <= 0:
            raise UsageError(f"--{option.replace('_', '-')} must be longer than zero, like 30s")
    scheme, _, rest = args.api_base.partition("://")
    if scheme not in ("http", "https") or not rest.strip("/"):
        raise UsageError(
            f"--api-base {args.api_base} is not a web address: write it like {DEFAULT_API_BASE}"
        )

    from flowlang.serve.store import StoreError
    from flowlang.serve.store.url import check_url, is_postgres

    try:
        check_url(args.store)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if args.lease < 3 * args.command_timeout:
        raise UsageError(
            f"--lease {args.lease:g}s is too short for --command-timeout {args.command_timeout:g}s:"
            " make it at least three times as long"
        )

    diagnostics = check_source(source)
    for diagnostic in diagnostics:
        print(render_text(diagnostic, source), file=sys.stderr)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        print(f"flowlang serve: {args.flow} has errors; fix them and start again", file=sys.stderr)
        return 1

    if is_postgres(args.store):
        _prepare_store(args.store)
    elif args.workers > 1:
        print(
            "flowlang serve: warning: several workers on one SQLite file take turns at every"
            " write; use a postgresql:// store for more than one worker",
            file=sys.stderr,
        )

    # Once nothing else can stop the start, and before the metrics library is imported: it
    # decides then where counters live.
    shared_metrics(args.workers)
    return _serve(source, args, verifier)


def _prepare_store(url: str) -> None:
    """Open the store, make its tables and write to it once, before anything starts: a store
    that cannot be used (unreachable, or a role that may not make tables) is one clear line
    and exit status 2, not workers failing at every start."""
    import asyncio

    from flowlang.serve.store import StoreError, open_store

    async def probe() -> None:
        store = open_store(url)
        try:
            await store.ping()
        finally:
            await store.close()

    try:
        asyncio.run(probe())
    except StoreError as exc:
        raise UsageError(f"the PostgreSQL store cannot be used: {exc}") from None


def _serve(source: Source, args: argparse.Namespace, verifier: Verifier | None) -> int:
    import json

    from flowlang.compiler import compile_source
    from flowlang.errors import FlowError
    from flowlang.serve.app import listening_socket
    from flowlang.serve.store import StoreError
    from flowlang.serve.store.url import is_postgres, store_path, without_password

    try:
        program = compile_source(source)
    except FlowError as exc:
        print(f"flowlang serve: {args.flow}: {exc}", file=sys.stderr)
        return 1
    if not is_postgres(args.store):
        from flowlang.serve.store.sqlite import SQLiteStore

        # Opened once here so that a bad path is one clear line before anything starts; each
        # worker opens its own connection.
        try:
            SQLiteStore.check(store_path(args.store))
        except StoreError as exc:
            raise UsageError(str(exc)) from None
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as exc:
        import errno

        hint = (
            " is another server using that port? Try another --port"
            if exc.errno == errno.EADDRINUSE
            else " is --host an address of this machine? 127.0.0.1 is this machine only,"
            " 0.0.0.0 every network interface"
        )
        raise UsageError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc});{hint}"
        ) from None
    if not os.environ.get("TELNYX_API_KEY", ""):
        print(
            "flowlang serve: warning: TELNYX_API_KEY is not set, so Telnyx will refuse every"
            " command; set it to your API key",
            file=sys.stderr,
        )
    # Only now, when nothing can stop the start any more: logging is set up for the process.
    # From here on every line on standard error is one JSON object.
    handler = start_logging(sys.stderr)
    try:
        log = logging.getLogger("flowlang")
        port = sock.getsockname()[1]
        log.info(
            json.dumps(
                {
                    "event": "listening",
                    "url": f"http://{args.host}:{port}/webhook",
                    "port": port,
                    "flow": args.flow,
                    "digest": program.digest,
                    "store": without_password(args.store),
                    "api_base": args.api_base,
                    "verify_signatures": verifier is not None,
                    "workers": args.workers,
                }
            )
        )
        if args.workers == 1:
            status = _worker(program, args, verifier, sock)
        else:
            from flowlang.cli.workers import supervise

            handler.flush()
            status = supervise(args.workers, lambda: _worker(program, args, verifier, sock))
        log.info(json.dumps({"event": "stopped", "status": status}))
    finally:
        stop_logging(handler)
    return status


# flowlang.serve.metrics.MULTIPROC_DIR, named again here so as not to import the metrics
# library before the folder is set.
_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def shared_metrics(workers: int) -> None:
    """Have the workers keep their metrics in files in one folder (prometheus-client's
    multiprocess mode), so that `/metrics`, whichever worker answers it, counts for them all.
    The folder is the operator's PROMETHEUS_MULTIPROC_DIR if set (emptied of an earlier run's
    files), else, with several workers, a fresh one removed at exit."""
    given = os.environ.get(_MULTIPROC_DIR)
    if given:
        empty_metrics_folder(given)
        return
    if workers == 1:
        return
    import shutil
    import tempfile

    if "prometheus_client" in sys.modules:
        raise RuntimeError("shared metrics must be set up before prometheus_client is imported")
    folder = tempfile.mkdtemp(prefix="flowlang-metrics-")
    os.environ[_MULTIPROC_DIR] = folder
    parent = os.getpid()

    def remove() -> None:
        # Forked workers inherit the hook: only the process that made the folder removes it.
        if os.getpid() == parent:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


# The files prometheus-client keeps a process's metrics in: `counter_<pid>.db`,
# `gauge_mostrecent_<pid>.db`, `histogram_<pid>.db`...
_METRICS_FILE = re.compile(r"[a-z]+(_[a-z]+)*_\d+\.db")


def empty_metrics_folder(folder: str) -> None:
    """Remove an earlier run's metrics files from the operator's PROMETHEUS_MULTIPROC_DIR, as
    prometheus-client asks (or their counts are added to this run's); UsageError when the
    folder cannot be used."""
    unset = "or unset it, and flowlang keeps the workers' counts in a folder of its own"
    path = Path(folder)
    if not path.is_dir():
        raise UsageError(
            f"{_MULTIPROC_DIR} is {folder}, which is not a folder: create it (empty), {unset}"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{_MULTIPROC_DIR} is {folder}, which this user cannot write: {unset}")
    for stale in path.iterdir():
        if _METRICS_FILE.fullmatch(stale.name) and stale.is_file():
            try:
                stale.unlink()
            except OSError as exc:
                raise UsageError(
                    f"cannot empty {_MULTIPROC_DIR} ({folder}) of the last run's metrics:"
                    f" {exc.strerror or exc}"
                ) from None


def _worker(
    program: Program, args: argparse.Namespace, verifier: Verifier | None, sock: socket.socket
) -> int:
    """Serve on `sock` until told to stop: this process's own store connection and app.
    Returns the exit status: 0 after a stop, 2 when the server could not start."""
    from pathlib import Path

    import uvicorn

    from flowlang.serve.app import create_app
    from flowlang.serve.http import uvicorn_config
    from flowlang.serve.store import StoreError, open_store
    from flowlang.serve.telnyx.client import RetryPolicy

    try:
        store = open_store(args.store)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    app = create_app(
        program,
        store,
        verifier=verifier,
        api_key=os.environ.get("TELNYX_API_KEY", ""),
        api_base=args.api_base,
        flow_path=Path(args.flow),
        retention=args.retention,
        policy=RetryPolicy(give_up_after=args.give_up_after),
        timeout=args.command_timeout,
        lease=args.lease,
        poll_every=min(1.0, args.lease / 4),
        dial_token=os.environ.get("FLOWLANG_DIAL_TOKEN", "").strip() or None,
        connection_id=args.connection_id,
        redact=args.redact,
    )
    server = uvicorn.Server(uvicorn_config(app))

    def stop(signum: int, frame: Any) -> None:
        # Before uvicorn runs (it handles the signals itself while it does), a stop signal
        # makes it stop as soon as it has started. After it, uvicorn raises the signal again
        # with the handler it found, this one: with the default handler the process would die
        # of it (status 143) before its last log lines are written.
        server.should_exit = True

    quiet = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run(sockets=[sock])
    except SystemExit as exc:
        # uvicorn's way to say it could not start (the reason is logged already).
        return 2 if exc.code else 0
    finally:
        for sig, handler in quiet.items():
            signal.signal(sig, handler)
    # Not started: the app's start-up failed (`startup_failed` says why).
    return 0 if server.started else 2

