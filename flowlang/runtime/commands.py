"""A command the interpreter asks the driver (simulator or server) to send to the call."""

from __future__ import annotations

from typing import Any

from attrs import frozen


@frozen
class Command:
    """`POST /calls/{call_control_id}/actions/{action}` with JSON `body`.

    `body` is exactly what is sent, `client_state` and `command_id` included, so the simulator
    prints it and the server POSTs it unchanged.
    """

    action: str
    body: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "body": self.body}
