"""Telnyx's answer to an AI command names the conversation it starts: fed back to the run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from flowlang.runtime.events import CONVERSATION_COMMANDS, CONVERSATION_STARTED, Event
from flowlang.serve.backend import Feeds
from flowlang.serve.store.base import OutboxItem
from flowlang.serve.telnyx.client import SendResult


def noter(runner: Feeds) -> Callable[[OutboxItem, SendResult], Awaitable[None]]:
    """The sender's hook for a command Telnyx took: an AI command's conversation id is applied
    to its call as a CONVERSATION_STARTED event, in one store transaction like a webhook. The
    event's id is the command's, so an answer applied twice changes the run once."""

    async def note(item: OutboxItem, result: SendResult) -> None:
        if item.action not in CONVERSATION_COMMANDS:
            return
        found = (result.data or {}).get("conversation_id")
        state = item.body.get("client_state")
        if not isinstance(found, str) or not found or not isinstance(state, str):
            return
        payload = {
            "call_control_id": item.call_control_id,
            "client_state": state,
            "conversation_id": found,
        }
        event_id = f"conversation/{item.body.get('command_id')}"
        event = Event(CONVERSATION_STARTED, payload, id=event_id)
        await runner.feed(item.call_control_id, event)

    return note
