"""A command the interpreter asks the driver (simulator or server) to send to the call."""

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
