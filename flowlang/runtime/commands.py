"""What the interpreter asks its driver (simulator or server) to do: a call command, a fetch."""

from __future__ import annotations

from typing import Any

from attrs import frozen

# The `action` of a command that is not a call action but a text message, `POST /messages`.
MESSAGE = "message"
MESSAGE_REQUEST = "POST /messages"


@frozen
class Command:
    """`POST /calls/{call_control_id}/actions/{action}` with JSON `body`, or, when `action` is
    MESSAGE, a text message: `POST /messages` with `body`.

    `body` is exactly what is sent, `client_state` and `command_id` included, so the simulator
    prints it and the server POSTs it unchanged.
    """

    action: str
    body: dict[str, Any]

    @property
    def is_message(self) -> bool:
        return self.action == MESSAGE

    def to_json(self) -> dict[str, Any]:
        if self.action == MESSAGE:
            return {"request": MESSAGE_REQUEST, "body": self.body}
        return {"action": self.action, "body": self.body}


@frozen
class FetchRequest:
    """A backend request (LANGUAGE.md 10) the driver makes for the run; its answer comes back
    as a `FETCH_ENDED` event carrying `client_state`.

    `headers` are (name, value, secret): for a secret, `value` is the name of the environment
    variable that holds it, read by the driver that makes the request, so the value itself is
    never in the run's state, its commands or its transcript. `body` is the JSON object a POST
    sends (None for GET). `key` is unique and deterministic for this request of this call: a
    POST sends it as `Idempotency-Key`, the same on every retry and after a restart.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str, bool], ...]
    body: dict[str, Any] | None
    timeout_ms: int
    client_state: str
    key: str

    def to_json(self) -> dict[str, Any]:
        """LANGUAGE.md 17's `{"fetch": {...}}`: the flow's own headers, a secret shown as
        `"<secret NAME>"` (the server adds `Accept` and, on a POST, `Idempotency-Key`)."""
        headers = {
            name: f"<secret {value}>" if secret else value for name, value, secret in self.headers
        }
        request: dict[str, Any] = {"method": self.method, "url": self.url, "headers": headers}
        if self.body is not None:
            request["body"] = self.body
        return {"fetch": request}

    def to_row(self) -> dict[str, Any]:
        """Everything needed to make the request, as JSON data (secrets still by name)."""
        return {
            "method": self.method,
            "url": self.url,
            "headers": [list(h) for h in self.headers],
            "body": self.body,
            "timeout_ms": self.timeout_ms,
            "client_state": self.client_state,
            "key": self.key,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FetchRequest:
        """The request `to_row` wrote."""
        return cls(
            method=str(row["method"]),
            url=str(row["url"]),
            headers=tuple((str(n), str(v), bool(s)) for n, v, s in row["headers"]),
            body=row.get("body"),
            timeout_ms=int(row["timeout_ms"]),
            client_state=str(row["client_state"]),
            key=str(row["key"]),
        )
