"""QA (area run): behaviours of running flows found by testing from the outside."""

from __future__ import annotations

from pathlib import Path

from flowlang.cli import main
from tests.sim.helpers import VOICE, flow, write_flow


def _transcript(capsys, path: Path, *inputs: str) -> str:
    argv = ["simulate", str(path)]
    for text in inputs:
        argv += ["--input", text]
    main(argv)
    return capsys.readouterr().out


def test_the_hang_up_at_the_end_of_the_flow_is_not_pinned_on_an_untaken_hangup_line(
    tmp_path: Path, capsys
) -> None:
    # The interpreter hangs up by itself when the flow runs off its end; the transcript must not
    # claim that the `hangup` of a branch that never ran (line 7) did it.
    path = write_flow(tmp_path, VOICE + flow(
        """\

        main:
            answer
            gather tries 1:
                say "press"
                on digits "1": hangup
                on timeout: say "nothing"
            say "bye"
        """
    ))
    out = _transcript(capsys, path, "timeout")
    assert "line 7" not in out
    assert "hang up" in out and "the flow ran to its end" in out


def test_the_hang_up_after_a_runtime_error_is_not_pinned_on_a_hangup_line(
    tmp_path: Path, capsys
) -> None:
    path = write_flow(tmp_path, VOICE + flow(
        """\

        main:
            answer
            goto loop

        loop:
            if caller == "nobody":
                hangup
            log "round"
            goto loop
        """
    ))
    out = _transcript(capsys, path)
    assert "line 9    hang up" not in out
    assert "1,000 statements" in out


def _serve_once_per_request(answer_status: int):
    """A loopback HTTP server standing in for Telnyx; records each request's Authorization."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("content-length") or 0))
            auth = self.headers.get("authorization")
            seen.append(auth)
            status = answer_status if auth else 401
            body = b'{"data": {"result": "ok"}}' if status == 200 else (
                b'{"errors": [{"code": "10009", "title": "Authentication failed"}]}'
            )
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def _send_with_key(api_key: str):
    import asyncio

    from flowlang.serve.telnyx.client import TelnyxClient

    server, seen = _serve_once_per_request(200)

    async def no_wait(seconds: float) -> None:
        pass

    async def go():
        client = TelnyxClient(
            api_key, f"http://127.0.0.1:{server.server_address[1]}/v2", sleep=no_wait
        )
        try:
            return await client.send("v3:call-1", "answer", {"command_id": "c-1"})
        finally:
            await client.aclose()

    try:
        return asyncio.run(go()), seen
    finally:
        server.shutdown()
        server.server_close()


def test_without_an_api_key_telnyx_gets_the_command_and_refuses_it_once() -> None:
    # docs/serve.md: "Without TELNYX_API_KEY the server starts (with a warning), but Telnyx
    # refuses every command." An empty `Bearer ` header is not even a valid HTTP header: the
    # command never left the machine and was retried as a connection error.
    result, seen = _send_with_key("")
    assert seen == [None]
    assert result.status == "rejected" and result.http_status == 401


def test_an_api_key_with_a_trailing_newline_still_authenticates() -> None:
    # A key pasted from a file (`export TELNYX_API_KEY=$(cat key.txt)` keeps no newline, but
    # an .env file or a copy from the portal may): the header must still be valid.
    result, seen = _send_with_key("  KEY123\n")
    assert seen == ["Bearer KEY123"]
    assert result.status == "sent"


def test_an_ai_gather_or_assistant_without_greeting_is_not_shown_with_empty_quotes(
    tmp_path: Path, capsys
) -> None:
    path = write_flow(tmp_path, VOICE + flow(
        """\

        main:
            answer
            assistant id "assistant-123":
                on key "#": say "hash"
            ai_gather:
                field ok boolean "ok?"
            assistant id "assistant-9":
                instructions "Be nice"
        """
    ))
    out = _transcript(capsys, path, "key=#", 'ai={"ok": true}', "end")
    assert '""' not in out
    assert "AI assistant assistant-123 starts" in out
    assert "AI gather (asks for ok)" in out
    assert "AI assistant assistant-9 starts" in out


def _payloads(capsys, path: Path, *inputs: str) -> list[str]:
    import json

    argv = ["simulate", str(path), "--format", "jsonl"]
    for text in inputs:
        argv += ["--input", text]
    main(argv)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [
        line["body"]["payload"]
        for line in lines
        if line.get("action") == "gather_using_speak"
    ]


def test_a_reprompt_before_an_ssml_prompt_stays_inside_one_speak_element(
    tmp_path: Path, capsys
) -> None:
    # "Sorry. <speak>...</speak>" sent as `payload_type: ssml` is not SSML: text outside the
    # root element. The reprompt goes inside it (escaped), before the prompt.
    path = write_flow(tmp_path, flow(
        """\
        voice "AWS.Polly.Joanna-Neural"

        main:
            answer
            gather tries 2:
                say "<speak>Press <emphasis>one</emphasis>.</speak>" ssml
                reprompt "Sorry & again."
                on digits "1": say "one"
                on timeout: hangup
                on invalid: hangup
        """
    ))
    first, second = _payloads(capsys, path, "timeout", "1")
    assert first == "<speak>Press <emphasis>one</emphasis>.</speak>"
    assert second == "<speak>Sorry &amp; again. Press <emphasis>one</emphasis>.</speak>"


def test_two_ssml_prompt_lines_are_joined_into_one_ssml_document(
    tmp_path: Path, capsys
) -> None:
    path = write_flow(tmp_path, flow(
        """\
        voice "AWS.Polly.Joanna-Neural"

        main:
            answer
            gather tries 1:
                say "<speak xml:lang='en-US'>Welcome to A &amp; B.</speak>" ssml
                say "<speak>Press <say-as interpret-as='digits'>1</say-as>.</speak>" ssml
                on digits "1": say "one"
                on timeout: hangup
                on invalid: hangup
        """
    ))
    (payload,) = _payloads(capsys, path, "1")
    assert payload == (
        "<speak xml:lang='en-US'>Welcome to A &amp; B. "
        "Press <say-as interpret-as='digits'>1</say-as>.</speak>"
    )


def test_an_entry_ended_by_telnyx_default_terminator_matches_without_it() -> None:
    # LANGUAGE.md 3: the entry is matched "without the terminator". A gather that names no
    # terminator still has Telnyx's default one, `#`; an entry reported as "2#" is "2".
    from tests.runtime.calls import Call

    call = Call.of(
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n'
        "    gather tries 1 into pick:\n"
        '        say "Press 1 or 2."\n'
        '        on digits "1": log "one"\n'
        '        on digits "2": log "two {digits} {pick}"\n'
        '        on invalid: log "invalid"\n'
        '        on timeout: log "timeout"\n'
    )
    call.start()
    call.complete()
    out = call.event("call.gather.ended", status="valid", digits="2#")
    assert [line.text for line in out.logs] == ["two 2 2"]


def test_ai_gather_language_from_a_speak_language_is_one_gather_using_ai_accepts(
    tmp_path: Path, capsys
) -> None:
    # `language "cmn-CN"` is a language speak takes; its primary subtag `cmn` is not one of
    # gather_using_ai's (Google) languages: Mandarin is `zh` there, Arabic `ar`, Norwegian `no`.
    # A language it has no name for (Welsh) is left out, so Telnyx uses its default.
    import json

    from tests.openapi import command_errors

    expected = {"cmn-CN": "zh", "arb": "ar", "nb-NO": "no", "en-GB": "en", "cy-GB": None}
    for language, sent in expected.items():
        path = write_flow(tmp_path, VOICE + flow(
            f"""\
            language "{language}"

            main:
                answer
                ai_gather:
                    field a string "a"
                say "x"
            """
        ))
        main(["simulate", str(path), "--format", "jsonl"])
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        (ai,) = [line for line in lines if line.get("action") == "gather_using_ai"]
        assert ai["body"].get("language") == sent, language
        assert command_errors("gather_using_ai", ai["body"]) == [], language
