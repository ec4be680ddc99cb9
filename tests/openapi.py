"""Validate command bodies and webhook payloads against the Telnyx OpenAPI subset in shared/telnyx/.

Usage from any test:

    from tests.openapi import validate_command, validate_webhook, command_errors

    validate_command("speak", body)            # raises AssertionError naming every problem
    validate_webhook("call.gather.ended", env)  # a whole envelope {"data": {...}, "meta": ...}
    validate_webhook_payload("call.gather.ended", payload)  # just `data.payload`

The spec is found at ROOT.parent/shared/telnyx/call-control-openapi-subset.json, or at the path in
the environment variable FLOWLANG_TELNYX_SPEC. Request schemas come from
`x-dereferenced.requests["POST /calls/{call_control_id}/actions/<action>"]`; webhook schemas from
`x-dereferenced.webhook_events[<event_type>]`. The subset's schemas allow any extra property, so
this helper is stricter: a body key the schema does not list is an error (it catches typos such as
`timeout_milis` that Telnyx would silently ignore). `ai_assistant_add_messages` is not in the
subset; its schema here is written from shared/telnyx/NOTES.md.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
SPEC_NAME = "call-control-openapi-subset.json"

# From NOTES.md ("Not in the MIT subset"): the newer spec's body for ai_assistant_add_messages.
AI_ASSISTANT_ADD_MESSAGES: dict[str, Any] = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "additionalProperties": False,
                "properties": {
                    "role": {
                        "type": "string",
                        "enum": ["system", "user", "assistant", "developer", "tool"],
                    },
                    "content": {"type": "string"},
                },
            },
        },
        "client_state": {"type": "string"},
        "command_id": {"type": "string"},
    },
}

EXTRA_REQUESTS = {"ai_assistant_add_messages": AI_ASSISTANT_ADD_MESSAGES}


def spec_path() -> Path:
    """Where the OpenAPI subset is read from (FLOWLANG_TELNYX_SPEC wins over the shared folder)."""
    env = os.environ.get("FLOWLANG_TELNYX_SPEC")
    if env:
        return Path(env)
    return ROOT.parent / "shared" / "telnyx" / SPEC_NAME


@cache
def _spec(path: str) -> dict[str, Any]:
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"the Telnyx OpenAPI subset is not at {path}: the tests expect the shared/ folder "
            "beside this checkout (as CI has it), or FLOWLANG_TELNYX_SPEC naming the file"
        )
    with open(path, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def spec() -> dict[str, Any]:
    """The whole OpenAPI subset document (cached per path)."""
    return _spec(str(spec_path()))


def actions() -> list[str]:
    """Every action this helper can validate (the subset's POST actions plus the NOTES.md ones)."""
    prefix = "POST /calls/{call_control_id}/actions/"
    found = [k[len(prefix) :] for k in spec()["x-dereferenced"]["requests"] if k.startswith(prefix)]
    return sorted([*found, *EXTRA_REQUESTS])


# Requests that are not call actions, by the `action` name flowlang's commands give them.
OTHER_REQUESTS = {"message": "POST /messages", "dial": "POST /calls"}


def request_schema(action: str) -> dict[str, Any]:
    """The JSON Schema of the body of `action` (a call action, or one of OTHER_REQUESTS);
    KeyError for an action not in the subset."""
    if action in EXTRA_REQUESTS:
        return EXTRA_REQUESTS[action]
    key = OTHER_REQUESTS.get(action, f"POST /calls/{{call_control_id}}/actions/{action}")
    requests = spec()["x-dereferenced"]["requests"]
    if key not in requests:
        raise KeyError(f"action {action!r} is not in the OpenAPI subset")
    schema: dict[str, Any] = requests[key]
    return schema


def webhook_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of a whole webhook envelope for `event_type`; KeyError when unknown."""
    events = spec()["x-dereferenced"]["webhook_events"]
    if event_type not in events:
        raise KeyError(f"webhook event {event_type!r} is not in the OpenAPI subset")
    schema: dict[str, Any] = events[event_type]
    return schema


_validators: dict[int, jsonschema.protocols.Validator] = {}


def _schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    # Building a validator walks the whole schema (gather_using_ai's is large): keep one per schema.
    validator = _validators.get(id(schema))
    if validator is None:
        validator = _validators[id(schema)] = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in errors]


def _client_state_errors(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    if "\n" in value or "\r" in value:
        return ["client_state: contains a line break (Telnyx truncates it there)"]
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return [f"client_state: {value!r} is not valid base64"]
    return []


def command_errors(action: str, body: Any) -> list[str]:
    """Every problem with `body` as the JSON body of `action` (empty when it is valid)."""
    try:
        schema = request_schema(action)
    except KeyError as e:
        return [str(e.args[0])]
    problems = _schema_errors(schema, body)
    if isinstance(body, dict):
        known = set(schema.get("properties", {}))
        problems += [f"{k}: not a property of the {action} request" for k in body if k not in known]
        problems += _client_state_errors(body.get("client_state"))
    return problems


def validate_command(action: str, body: Any) -> None:
    """Assert that `body` is a valid body for `action`; the message lists every problem."""
    problems = command_errors(action, body)
    assert not problems, f"invalid {action} body {body!r}:\n  " + "\n  ".join(problems)


def webhook_errors(event_type: str, envelope: Any) -> list[str]:
    """Every problem with a whole webhook envelope `{"data": {...}, "meta": {...}}`."""
    try:
        schema = webhook_schema(event_type)
    except KeyError as e:
        return [str(e.args[0])]
    problems = _schema_errors(schema, envelope)
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if not isinstance(data, dict):
        problems.append("data: missing or not an object")
    elif data.get("event_type") != event_type:
        problems.append(f"data/event_type: {data.get('event_type')!r} is not {event_type!r}")
    return problems


def validate_webhook(event_type: str, envelope: Any) -> None:
    """Assert that `envelope` is a valid webhook of `event_type`."""
    problems = webhook_errors(event_type, envelope)
    assert not problems, f"invalid {event_type} webhook:\n  " + "\n  ".join(problems)


def validate_webhook_payload(event_type: str, payload: Any) -> None:
    """Assert that `payload` is a valid `data.payload` of an `event_type` webhook."""
    schema = webhook_schema(event_type)["properties"]["data"]["properties"]["payload"]
    problems = _schema_errors(schema, payload)
    assert not problems, f"invalid {event_type} payload:\n  " + "\n  ".join(problems)
