"""The served flow's clock is each webhook's `occurred_at`, read in the flow's timezone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.server.scenarios import EXAMPLES
from tests.server.test_app import Harness, Telnyx, run

FRONT_DESK = EXAMPLES / "front_desk.flow"


def hook(event_type: str, call: str, event_id: str, at: str | None, **payload: Any) -> bytes:
    data: dict[str, Any] = {
        "event_type": event_type,
        "id": event_id,
        "payload": {"call_control_id": call, **payload},
    }
    if at is not None:
        data["occurred_at"] = at
    return json.dumps({"data": data, "meta": {}}).encode()


async def greeted_then(h: Harness, call: str, at: str | None) -> tuple[str, dict[str, Any]]:
    """Start a call and play it up to the first decision on the hours; what was sent then."""
    incoming = hook("call.initiated", call, f"{call}-1", at, direction="incoming",
                    **{"from": "+13125550100", "to": "+13125550140"})
    await h.post(incoming)
    for number, event_type in enumerate(("call.answered", "call.speak.ended"), start=2):
        await h.app.sender.idle()
        state = h.telnyx.requests[-1][1]["client_state"]
        await h.post(hook(event_type, call, f"{call}-{number}", at, client_state=state))
    await h.app.sender.idle()
    return h.telnyx.requests[-1]


def test_open_and_closed_follow_occurred_at_in_the_flows_timezone() -> None:
    async def test(h: Harness) -> None:
        # 16:00 UTC on Monday 23 November 2026 is 10:00 in Chicago: open.
        action, body = await greeted_then(h, "open-call", "2026-11-23T16:00:00.000000Z")
        assert action == "gather_using_speak"
        assert body["payload"].startswith("To book or change an appointment")
        # 01:00 UTC on that Monday is still Sunday evening in Chicago: closed.
        action, body = await greeted_then(h, "closed-call", "2026-11-23T01:00:00Z")
        assert (action, body["payload"][:34]) == ("speak", "Our office is closed right now. We")

    run(test, Telnyx(), flow=FRONT_DESK)


def test_a_webhook_without_occurred_at_is_read_at_the_moment_it_arrives() -> None:
    # The harness clock stands at 08:00 UTC on a Friday: 2 in the morning in Chicago, closed;
    # and at 18:00 UTC on the same Friday: noon in Chicago, the lunch break.
    night = datetime(2027, 1, 15, 8, tzinfo=UTC).timestamp()
    noon = datetime(2027, 1, 15, 18, tzinfo=UTC).timestamp()

    async def test(h: Harness) -> str:
        return str((await greeted_then(h, "call", None))[1]["payload"])

    assert run(test, Telnyx(), flow=FRONT_DESK, clock=lambda: night).startswith(
        "Our office is closed right now."
    )
    assert run(test, Telnyx(), flow=FRONT_DESK, clock=lambda: noon) == (
        "Our front desk is at lunch until one o'clock."
    )
