"""The server's public names, pinned: what other code and the docs may rely on."""

from __future__ import annotations

import flowlang.serve.store
from flowlang.serve import app as server
from flowlang.serve.telnyx import client, signature, webhooks


def test_store_exports() -> None:
    assert sorted(flowlang.serve.store.__all__) == [
        "Applied",
        "CALL_COMMAND",
        "CallChange",
        "Counts",
        "OutboxItem",
        "Outgoing",
        "Store",
        "StoreError",
        "StoredCall",
        "open_store",
    ]
    for name in flowlang.serve.store.__all__:
        assert hasattr(flowlang.serve.store, name)


def test_server_and_telnyx_entry_points_exist() -> None:
    for module, names in [
        (server, ["WebhookApp", "create_app", "listening_socket", "MAX_BODY"]),
        (client, ["TelnyxClient", "RetryPolicy", "SendResult", "ACTIONS", "DEFAULT_API_BASE"]),
        (signature, ["Verifier", "load_public_key", "SignatureError", "TOLERANCE_SECONDS"]),
        (webhooks, ["parse_webhook", "Webhook", "MalformedWebhook", "CALL_EVENT_TYPES"]),
    ]:
        missing = [n for n in names if not hasattr(module, n)]
        assert missing == [], f"{module.__name__} lost {missing}"


def test_the_signature_tolerance_is_telnyx_s_300_seconds() -> None:
    assert signature.TOLERANCE_SECONDS == 300
