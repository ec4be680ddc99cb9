"""Place calls running an outbound flow through a `flowlang serve`: one, or a CSV list of them."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from flowlang.cli.inputs import UsageError, number, whole_number

# A call the server no longer knows while it was under way: placed, but what became of it is
# not known (it may have been answered), so it is neither a failure nor called again.
UNKNOWN = "unknown"

# How a finished call is counted in the report, from what `GET /calls/ID` says.
REPORT = (
    ("person", "answered by a person"),
    ("machine", "answered by a machine"),
    ("no_answer", "not answered"),
    ("busy", "busy"),
    ("failed", "failed"),
    (UNKNOWN, "outcome unknown"),
)

# What became of a call that was placed (FINISHED), as `GET /calls/ID` says it.
FINISHED = ("answered", "no_answer", "busy", "failed")
# Answers to `POST /calls` that stop the whole list (every call would get the same), and the fix.
REFUSED = {
    401: "set FLOWLANG_DIAL_TOKEN to the token the server was started with",
    404: "start the server with FLOWLANG_DIAL_TOKEN set, and check that --server names it",
    409: "serve a flow with an `outbound from \"NUMBER\"` line",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", default="http://127.0.0.1:8000", metavar="URL",
                        help="the flowlang serve that places the calls (http://127.0.0.1:8000)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="NUMBER", help="call this one number")
    target.add_argument("--csv", metavar="FILE",
                        help="call every row: column `to` (and `from`), the others are inputs")
    parser.add_argument("--with", dest="values", action="append", default=[],
                        metavar="NAME=VALUE", help="an input of the one call (--to), repeatable")
    parser.add_argument("--rate", type=number, default=30.0, metavar="N",
                        help="at most N calls started per minute (30)")
    parser.add_argument("--concurrency", type=whole_number, default=5, metavar="N",
                        help="at most N calls under way at a time (5)")
    parser.add_argument("--state", metavar="FILE",
                        help="where progress is kept, to resume (default: the CSV's name "
                        "+ .state.jsonl)")
    parser.add_argument("--poll", type=number, default=2.0, metavar="SECONDS",
                        help="how often calls under way are checked (2)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="call again the rows an earlier run recorded as failed (not the "
                        "ones not answered or busy)")


def run(args: argparse.Namespace) -> int:
    import httpx

    token = os.environ.get("FLOWLANG_DIAL_TOKEN", "").strip()
    if not token:
        raise UsageError(
            "FLOWLANG_DIAL_TOKEN is not set: use the token the server was started with"
        )
    if args.rate <= 0 or args.concurrency < 1 or args.poll <= 0:
        raise UsageError("--rate, --concurrency and --poll must be positive")
    rows = _rows(args)
    state_path = Path(args.state) if args.state else (
        Path(args.csv + ".state.jsonl") if args.csv else None
    )
    server = args.server.rstrip("/")
    with httpx.Client(base_url=server, timeout=10.0,
                      headers={"authorization": f"Bearer {token}"}) as client:
        campaign = Campaign(client, rows, state_path, args.rate, args.concurrency, args.poll)
        if args.retry_failed:
            campaign.retry_failed()
        again = (f"; progress is in {state_path}, run the same command again to go on"
                 if state_path else "")
        try:
            with _stopped_by_sigterm():
                campaign.run(sys.stderr)
        except (KeyboardInterrupt, _Terminated) as stop:
            sys.stderr.write(
                f"\nstopped: {campaign.started} of {len(rows)} calls started{again}\n"
            )
            # 130 after Ctrl-C, 143 after SIGTERM (a service manager's stop): 128 + the signal.
            return 143 if isinstance(stop, _Terminated) else 130
        except httpx.HTTPError as exc:
            sys.stderr.write("\n")
            raise UsageError(
                f"cannot reach the flowlang server at {server} ({exc}): check that "
                f"`flowlang serve` runs there and that --server names it{again}"
            ) from None
        except (ValueError, KeyError):
            sys.stderr.write("\n")
            raise UsageError(
                f"{server} did not answer like a flowlang server: check that --server names "
                f"the address `flowlang serve` listens on{again}"
            ) from None
    sys.stdout.write(campaign.report())
    # 1 when a call could not be placed: a request the server refused, or a call Telnyx refused,
    # could not be reached for, or ended before it rang. Not answered, busy and answering
    # machines are what became of calls that were placed: 0.
    return 1 if campaign.counts()["failed"] else 0


class _Terminated(Exception):
    """SIGTERM arrived: stop as after Ctrl-C (progress is kept row by row)."""


@contextlib.contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.to is not None:
        if not args.to.strip():
            raise UsageError("--to needs the number to call, such as --to +13125550111")
        inputs = {}
        for value in args.values:
            name, equals, given = value.partition("=")
            if not equals or not name.strip():
                raise UsageError(
                    f"--with {value!r}: write NAME=VALUE, such as --with patient=\"Ann Lee\""
                )
            inputs[name.strip()] = given
        return [{"to": args.to.strip(), "inputs": inputs}]
    path = Path(args.csv)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            table = list(csv.DictReader(f))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(
            f"{path} is not UTF-8 text: save it as UTF-8 (in Excel: CSV UTF-8) and try again"
        ) from None
    if table and "to" not in table[0]:
        raise UsageError(f"{path} has no `to` column (the number to call)")
    rows = []
    for line, record in enumerate(table, start=2):
        inputs = {k: v for k, v in record.items() if k not in ("to", "from") and k}
        row: dict[str, Any] = {"to": (record.get("to") or "").strip(), "inputs": inputs,
                               "line": line}
        if record.get("from"):
            row["from"] = record["from"].strip()
        rows.append(row)
    return rows


class Campaign:
    """Calls `rows` through the server at `rate` per minute, `concurrency` at a time, keeping
    each call's progress in `state` (JSON lines) so that a second run calls nobody twice."""

    def __init__(
        self,
        client: Any,
        rows: list[dict[str, Any]],
        state: Path | None,
        rate: float,
        concurrency: int,
        poll: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.rows = rows
        self.state = state
        self.interval = 60.0 / rate
        self.concurrency = concurrency
        self.poll = poll
        self.clock = clock
        self.sleep = sleep
        self.records: dict[int, dict[str, Any]] = self._load()
        self.started = len(self.records)
        # The progress last written to a log (not a terminal: see _progress).
        self._shown = ""

    def _load(self) -> dict[int, dict[str, Any]]:
        records: dict[int, dict[str, Any]] = {}
        if self.state is None or not self.state.exists():
            return records
        try:
            text = self.state.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "it is not a progress file"
            raise UsageError(
                f"--state {self.state}: cannot read it ({why}): name a file of its own,"
                " such as calls.state.jsonl"
            ) from None
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short when the last run was stopped
            if isinstance(record, dict) and isinstance(record.get("row"), int):
                records[record["row"]] = record
        self._same_list(records)
        return records

    def _same_list(self, records: dict[int, dict[str, Any]]) -> None:
        """Refuse progress kept for another list: rows are known by their place in the CSV, so
        after a row was added or removed, going on would skip people and ring others twice."""
        for index, record in sorted(records.items()):
            now = self.rows[index]["to"] if index < len(self.rows) else None
            if now == record.get("to"):
                continue
            line = record.get("line", index + 2)
            was = f"row {line} was {record.get('to')}"
            is_now = (
                f"it is now {now}" if now is not None else f"the list has {len(self.rows)} rows"
            )
            raise UsageError(
                f"--state {self.state}: the progress kept there is for another list ({was},"
                f" {is_now}); going on would ring the wrong people: put the list back as it"
                " was, or give a new --state file to call this list from the start"
            )

    def retry_failed(self) -> None:
        """Forget the rows an earlier run recorded as failed, so that this run calls them
        again (their new records, appended to the state, are the ones a later run reads)."""
        for index in [i for i, r in self.records.items() if _failed(r) and r.get("finished")]:
            del self.records[index]
        self.started = len(self.records)

    def _save(self, record: dict[str, Any]) -> None:
        self.records[record["row"]] = record
        if self.state is not None:
            with self.state.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def run(self, out: TextIO) -> None:
        waiting = [i for i in range(len(self.rows)) if i not in self.records]
        under_way = [i for i, r in self.records.items() if not r.get("finished")]
        next_start = self.clock()
        while waiting or under_way:
            for index in list(under_way):
                if self._follow(index):
                    under_way.remove(index)
            while waiting and len(under_way) < self.concurrency and self.clock() >= next_start:
                index = waiting.pop(0)
                if not self._start(index):
                    continue
                under_way.append(index)
                next_start += self.interval
            self._progress(out, len(under_way))
            if waiting or under_way:
                self.sleep(self.poll)
        self._progress(out, 0)
        if out.isatty():
            out.write("\n")  # the bar's line ends after its last redraw

    def _start(self, index: int) -> bool:
        """POST the row's call; False when it was refused (recorded as failed)."""
        row = self.rows[index]
        answer = self.client.post("/calls", json={k: v for k, v in row.items() if k != "line"})
        if answer.status_code in REFUSED:
            raise UsageError(f"the server refused to place calls ({answer.status_code}): "
                             f"{_why(answer)}; {REFUSED[answer.status_code]}")
        self.started += 1
        record: dict[str, Any] = {"row": index, "to": row["to"]}
        if "line" in row:
            record["line"] = row["line"]
        if answer.status_code != 202:
            reason = (
                f"the server could not take the call ({answer.status_code}): {_why(answer)}"
                if answer.status_code >= 500
                else f"the server refused the call: {_why(answer)}"
            )
            record.update(status="failed", finished=True, reason=reason)
            self._save(record)
            return False
        record.update(id=answer.json()["id"], status="queued", finished=False)
        self._save(record)
        return True

    def _follow(self, index: int) -> bool:
        """Ask how the row's call goes; True once it is over."""
        record = self.records[index]
        answer = self.client.get(f"/calls/{record['id']}")
        if answer.status_code in REFUSED and not _forgotten(answer):
            # Not an answer about this call (a wrong token, calling out off, another server):
            # recording it as failed would have --retry-failed ring the person again.
            raise UsageError(f"the server refused to say how the calls went"
                             f" ({answer.status_code}): {_why(answer)};"
                             f" {REFUSED[answer.status_code]}")
        if answer.status_code >= 500:
            return False  # the server's store is unavailable for now: asked again next time
        if answer.status_code == 404:
            # The server forgot it (kept past its retention, or its database was replaced):
            # nothing more to learn. Its outcome is unknown, not a failure: the person may
            # have answered, so --retry-failed does not ring them again.
            gone = {**record, "finished": True, "status": record.get("status", UNKNOWN)}
            if gone["status"] not in FINISHED:
                gone.update(status=UNKNOWN, reason="the server no longer knows this call "
                            "(it keeps calls for --retention, 1 hour by default)")
            self._save(gone)
            return True
        found = answer.json()
        updated = {**record, "status": found["status"], "answered_by": found.get("answered_by"),
                   "finished": bool(found.get("finished"))}
        if found.get("status") == "failed" and found.get("reason"):
            updated["reason"] = found["reason"]
        if updated != record:
            self._save(updated)
        return bool(updated["finished"])

    def _progress(self, out: TextIO, under_way: int) -> None:
        total = len(self.rows)
        done = sum(1 for r in self.records.values() if r.get("finished"))
        counts = f"{done}/{total} done, {under_way} under way"
        if not out.isatty():
            # A log (a service, cron, a pipe): one line when the counts change, not a bar
            # redrawn at every poll.
            if counts != self._shown:
                out.write(counts + "\n")
                out.flush()
                self._shown = counts
            return
        width = 30
        filled = width * done // total if total else width
        out.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {counts}")
        out.flush()

    def counts(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for record in self.records.values():
            status = record.get("status")
            if _failed(record):
                found["failed"] += 1
            elif status == "answered":
                found["machine" if record.get("answered_by") == "machine" else "person"] += 1
            else:
                found[str(status)] += 1  # no_answer, busy
        return found

    def failures(self) -> list[dict[str, Any]]:
        """The records counted as failed, in the list's order."""
        return self._where(_failed)

    def _where(self, test: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [self.records[i] for i in sorted(self.records) if test(self.records[i])]

    def report(self) -> str:
        found = self.counts()
        lines = [f"{len(self.records)} of {len(self.rows)} calls tried:"]
        lines += [f"  {found[key]:>5}  {words}" for key, words in REPORT
                  if key != UNKNOWN or found[key]]
        unknown = self._where(lambda record: record.get("status") == UNKNOWN)
        for heading, records in (("failed", self.failures()), ("outcome unknown", unknown)):
            if records:
                lines += ["", f"{heading}:"]
                for record in records:
                    where = f" (line {record['line']})" if "line" in record else ""
                    why = record.get("reason") or "no reason was recorded"
                    lines.append(f"  {record.get('to') or '(no number)'}{where}: {why}")
        return "\n".join(lines) + "\n"


def _failed(record: dict[str, Any]) -> bool:
    """Whether a row's call counts as failed: it was not placed, or ended before it rang. A call
    not answered, or a busy line, was placed: that is what became of it, not a failure."""
    return record.get("status") not in ("answered", "no_answer", "busy", UNKNOWN)


def _forgotten(answer: Any) -> bool:
    """Whether a 404 to `GET /calls/ID` is the server saying it knows no call with that id (it
    kept it past its retention), not that the endpoint is off or missing."""
    from flowlang.serve.dial import NO_SUCH_CALL

    try:
        body = answer.json()
    except ValueError:
        return False
    return (answer.status_code == 404 and isinstance(body, dict)
            and body.get("error") == NO_SUCH_CALL)


def _why(answer: Any) -> str:
    """The server's reason in an error answer: each `errors` entry (`field: message`), or its
    `error`, else the text."""
    try:
        body = answer.json()
    except ValueError:
        return answer.text.strip() or f"HTTP {answer.status_code}"
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(
                f"{e.get('field')}: {e.get('message')}" if isinstance(e, dict) else str(e)
                for e in errors
            )
        if isinstance(body.get("error"), str):
            return str(body["error"])
    return answer.text.strip() or f"HTTP {answer.status_code}"
