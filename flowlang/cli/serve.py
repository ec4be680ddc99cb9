"""Run the webhook server that answers Telnyx and runs FLOW on real phone calls."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import re
import sys
from typing import TYPE_CHECKING, TextIO

from flowlang.cli.inputs import UsageError, read_source

if TYPE_CHECKING:
    from flowlang.serve.telnyx.signature import Verifier
    from flowlang.source import Source

DEFAULT_STORE = "sqlite:///flowlang.db"
DEFAULT_API_BASE = "https://api.telnyx.com/v2"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """Seconds from `90`, `90s`, `30m`, `12h` or `7d` (for --retention)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: write a number with s, m, h or d, such as 30m or 12h"
        )
    return float(int(match.group(1)) * _UNITS[match.group(2) or "s"])


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
    handler.setFormatter(logging.Formatter("%(message)s"))
    atexit.register(handler.flush)
    log = logging.getLogger("flowlang")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


def stop_logging(handler: logging.Handler) -> None:
    """Write what is pending and detach `handler`, so nothing later writes to its stream
    (which may be closed by then: a test's captured output, a pipe)."""
    handler.flush()
    logging.getLogger("flowlang").removeHandler(handler)
    atexit.unregister(handler.flush)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow", metavar="FLOW", help="the .flow file to run on incoming calls")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
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
        help="how long finished calls are kept before they are cleaned up (1h)",
    )


def run(args: argparse.Namespace) -> int:
    from flowlang.diagnostics import Severity, render_text
    from flowlang.lint import check_source

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
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (0 to 65535)")

    from flowlang.serve.store import StoreError
    from flowlang.serve.store.url import store_path

    try:
        store_path(args.store)
    except StoreError as exc:
        raise UsageError(str(exc)) from None

    source = read_source(args.flow)
    diagnostics = check_source(source)
    for diagnostic in diagnostics:
        print(render_text(diagnostic, source), file=sys.stderr)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        print(f"flowlang serve: {args.flow} has errors; fix them and start again", file=sys.stderr)
        return 1

    return _serve(source, args, verifier)


def _serve(source: Source, args: argparse.Namespace, verifier: Verifier | None) -> int:
    import json
    from pathlib import Path

    import uvicorn

    from flowlang.compiler import compile_source
    from flowlang.errors import FlowError
    from flowlang.serve.app import create_app, listening_socket
    from flowlang.serve.store import StoreError, open_store

    try:
        program = compile_source(source)
    except FlowError as exc:
        print(f"flowlang serve: {args.flow}: {exc}", file=sys.stderr)
        return 1
    try:
        store = open_store(args.store)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as exc:
        store.close()
        raise UsageError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc});"
            " is another server using that port? Try another --port"
        ) from None
    # Only now, when nothing can stop the start any more: logging is set up for the process.
    handler = start_logging(sys.stderr)
    try:
        log = logging.getLogger("flowlang")
        api_key = os.environ.get("TELNYX_API_KEY", "")
        if not api_key:
            print(
                "flowlang serve: warning: TELNYX_API_KEY is not set, so Telnyx will refuse every"
                " command; set it to your API key",
                file=sys.stderr,
            )
        app = create_app(
            program,
            store,
            verifier=verifier,
            api_key=api_key,
            api_base=args.api_base,
            flow_path=Path(args.flow),
            retention=args.retention,
        )
        port = sock.getsockname()[1]
        log.info(
            json.dumps(
                {
                    "event": "listening",
                    "url": f"http://{args.host}:{port}/webhook",
                    "port": port,
                    "flow": args.flow,
                    "digest": program.digest,
                    "store": args.store,
                    "api_base": args.api_base,
                    "verify_signatures": verifier is not None,
                }
            )
        )
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", log_config=None
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        stop_logging(handler)
    return 0
