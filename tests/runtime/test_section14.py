"""Voicemail, transfers that fail over, text messages and queues (LANGUAGE.md 14), one event at a
time through the interpreter."""

from __future__ import annotations

import pytest

from flowlang.runtime.events import FETCH_ENDED, WAIT_EXPIRED
from flowlang.runtime.interpreter import RECORDING_WAIT_SECS
from flowlang.runtime.outcome import End, Outcome
from flowlang.runtime.state import leg_client_state
from tests.runtime.calls import CALL_ID, Call, actions, without_correlation

HEAD = 'voice "Telnyx.KokoroTTS.af"\nsms_from "+13125550199"\n\nmain:\n    answer\n'

VOICEMAIL = HEAD + (
    '    record into message max 2m silence 5s beep end_key "#":\n'
    "        on saved:\n"
    '            sms "+13125550100" "From {caller}: {message.url} ({message.duration}s)"\n'
    '            log "saved"\n'
    '        on error: log "the recording failed"\n'
    '    say "Thank you. Goodbye."\n'
    "\n"
    "on hangup:\n"
    '    log "caller gone"\n'
)
SAVED = {
    "recording_urls": {"mp3": "https://r.example/v.mp3"},
    "recording_started_at": "2026-01-01T12:00:00.000000Z",
    "recording_ended_at": "2026-01-01T12:00:42.400000Z",
}


def voicemail() -> Call:
    call = Call.of(VOICEMAIL.replace("message", "msg"))
    call.start()
    call.settle()
    assert call.last.waiting == "record"
    return call


def test_record_sends_record_start_with_the_options_in_seconds() -> None:
    call = voicemail()
    record = call.commands[-1]
    assert record.action == "record_start"
    assert without_correlation(record.body) == {
        "format": "mp3", "channels": "single", "max_length": 120, "timeout_secs": 5,
        "play_beep": True,
    }


def test_a_saved_recording_runs_on_saved_with_its_url_and_length_then_goes_on() -> None:
    call = voicemail()
    out = call.event("call.recording.saved", **SAVED)
    assert [c.to_json() for c in out.commands[:1]] == [
        {"request": "POST /messages", "body": {
            "from": "+13125550199", "to": "+13125550100",
            "text": "From +15550001111: https://r.example/v.mp3 (42s)"}}
    ]
    assert call.logs == ["saved"]
    assert actions(out.commands[1:]) == ["speak"]
    assert out.state["vars"]["msg"] == {"url": "https://r.example/v.mp3", "duration": 42}


def test_a_caller_who_hangs_up_to_finish_still_gets_on_saved_then_on_hangup() -> None:
    call = voicemail()
    out = call.event("call.hangup", hangup_cause="normal_clearing")
    assert out.end is None and out.waiting == "record" and not out.commands
    out = call.event("call.recording.saved", **SAVED)
    assert out.end is not None and out.end.reason == "hangup"
    assert [c.action for c in out.commands] == ["message"]
    assert call.logs == ["saved", "caller gone"]


def test_a_failed_recording_after_the_hangup_runs_on_error_and_ends() -> None:
    call = voicemail()
    call.event("call.hangup", hangup_cause="normal_clearing")
    out = call.event("call.recording.error", reason="Internal server error")
    assert out.end is not None and out.end.reason == "hangup"
    assert call.logs == ["the recording failed", "caller gone"]
    assert out.state["vars"]["msg"] == {}


def test_a_second_hangup_while_the_recording_is_awaited_changes_nothing() -> None:
    call = voicemail()
    call.event("call.hangup", hangup_cause="normal_clearing")
    assert call.event("call.hangup", hangup_cause="normal_clearing").ignored


def test_the_end_key_stops_the_recording_once_and_the_run_waits_for_it() -> None:
    call = voicemail()
    out = call.event("call.dtmf.received", digit="#")
    assert actions(out.commands) == ["record_stop"]
    assert call.event("call.dtmf.received", digit="#").ignored
    assert call.event("call.dtmf.received", digit="5").ignored
    out = call.event("call.recording.saved", **SAVED)
    assert call.logs == ["saved"]


TRANSFER = HEAD + (
    '    transfer "+13125550001" timeout 20s:\n'
    '        on no_answer: log "nobody"\n'
    '        on busy: log "busy"\n'
    '        on failed: log "failed"\n'
    '    say "Let me take a message."\n'
)


def transferring() -> Call:
    call = Call.of(TRANSFER)
    call.start()
    call.settle()
    assert call.last.waiting == "transfer"
    return call


def leg_event(call: Call, type_: str, **payload: object) -> object:
    seq = call.state["seq"]
    return call.event(
        type_, call_control_id="v3:new-leg", client_state=leg_client_state(CALL_ID, seq),
        **payload,
    )


def test_a_transfer_with_handlers_marks_the_new_leg_with_the_original_call() -> None:
    call = transferring()
    body = call.commands[-1].body
    assert body["target_leg_client_state"] == leg_client_state(CALL_ID, call.state["seq"])


@pytest.mark.parametrize(
    ("cause", "log"),
    [("timeout", "nobody"), ("no_answer", "nobody"), ("originator_cancel", "nobody"),
     ("user_busy", "busy"), ("call_rejected", "failed"), ("unspecified", "failed")],
)
def test_the_new_legs_hangup_cause_picks_the_handler_and_the_flow_goes_on(
    cause: str, log: str
) -> None:
    call = transferring()
    out = leg_event(call, "call.hangup", hangup_cause=cause)
    assert call.logs == [log]
    assert actions(out.commands) == ["speak"] and out.end is None


def test_the_new_leg_answering_ends_the_run_as_a_transfer() -> None:
    call = transferring()
    out = leg_event(call, "call.answered")
    assert out.end is not None and out.end.reason == "transfer"


def test_an_event_of_another_call_or_an_old_transfer_is_ignored() -> None:
    call = transferring()
    stale = call.event("call.hangup", call_control_id="v3:new-leg",
                       client_state=leg_client_state(CALL_ID, 1), hangup_cause="user_busy")
    assert stale.ignored
    other = call.event("call.hangup", call_control_id="v3:new-leg",
                       client_state=leg_client_state("v3:other", call.state["seq"]))
    assert other.ignored


def test_a_transfer_without_a_block_still_ends_the_flow() -> None:
    call = Call.of(HEAD + '    transfer "+13125550001"\n')
    out = call.start()
    out = call.settle()
    assert out.end is not None and out.end.reason == "transfer"
    assert "target_leg_client_state" not in call.commands[-1].body


QUEUE = HEAD + (
    '    queue "support" max_wait 5m:\n'
    '        play "https://example.com/hold.mp3"\n'
    '        on timeout: log "nobody came"\n'
    '    say "Please leave a message."\n'
)


def queued(text: str = QUEUE) -> Call:
    call = Call.of(text)
    call.start()
    call.settle()
    assert call.last.waiting == "queue"
    return call


def test_a_queue_enqueues_and_loops_its_hold_music() -> None:
    call = queued()
    enqueue, music = call.commands[-2:]
    assert without_correlation(enqueue.body) == {"queue_name": "support", "max_wait_time_secs": 300}
    assert without_correlation(music.body) == {
        "audio_url": "https://example.com/hold.mp3", "loop": "infinity",
    }


def test_a_queue_timeout_stops_the_music_runs_on_timeout_and_goes_on() -> None:
    call = queued()
    out = call.event("call.dequeued", reason="timeout")
    assert actions(out.commands) == ["playback_stop", "speak"]
    assert call.logs == ["nobody came"]


def test_leaving_the_queue_goes_on_without_the_handler() -> None:
    call = queued()
    out = call.event("call.dequeued", reason="leave")
    assert actions(out.commands) == ["playback_stop", "speak"] and call.logs == []


def test_an_agent_taking_the_call_ends_the_run_as_a_transfer() -> None:
    call = queued()
    assert call.event("call.dequeued", reason="bridging-in-process").ignored
    out = call.event("call.dequeued", reason="bridged")
    assert out.end is not None and out.end.reason == "transfer"


def test_a_queue_without_max_wait_still_ends_after_30_minutes() -> None:
    call = queued(HEAD + '    queue "support"\n')
    assert call.commands[-1].body["max_wait_time_secs"] == 1800


def test_sms_does_not_wait_and_falls_back_to_the_called_number() -> None:
    call = Call.of('voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n'
                   '    sms "+13125550100" "Hi {caller}"\n    say "Sent."\n')
    call.start()
    out = call.complete()
    assert [c.to_json() for c in out.commands[:1]] == [
        {"request": "POST /messages",
         "body": {"from": "+15550002222", "to": "+13125550100", "text": "Hi +15550001111"}}
    ]
    assert actions(out.commands[1:]) == ["speak"]


PLACED = ('outbound from "+13125550199"\nvoice "Telnyx.KokoroTTS.af"\n\nmain:\n'
          '    sms "+13125550100" "See you tomorrow."\n    say "Sent."\n')


def test_sms_on_a_call_the_flow_placed_comes_from_the_flows_own_number() -> None:
    # On a placed call `called` is the person called: texting "from" them would be refused.
    call = Call.of(PLACED, caller="+13125550199")
    call.start()
    assert call.commands[0].to_json()["body"]["from"] == "+13125550199"
    assert call.info.called == "+15550002222"


def test_sms_on_a_call_placed_from_another_number_comes_from_that_number() -> None:
    # `POST /calls` (and a `from` column of `flowlang dial`) may place the call from another of
    # the account's numbers than `outbound from`: the text comes from the number that rang the
    # person, as the call did, not from one they never saw.
    call = Call.of(PLACED, caller="+13125550777")
    call.start()
    assert call.commands[0].to_json()["body"]["from"] == "+13125550777"


def test_sms_in_on_hangup_is_sent_after_the_caller_left() -> None:
    call = queued(HEAD + '    queue "support" max_wait 5m\n\non hangup:\n'
                  '    sms "+13125550100" "Missed call"\n')
    out = call.event("call.hangup", hangup_cause="normal_clearing")
    assert actions(out.commands) == ["message"] and out.end is not None


# A voicemail that posts the recording to a backend from `on saved:` (LANGUAGE.md 14).
POSTING = HEAD + (
    '    record into msg max 2m end_key "#":\n'
    "        on saved:\n"
    '            fetch "https://api.example.com/voicemails" method "POST" into stored:\n'
    "                send url = msg.url\n"
    "                send from = caller\n"
    '                on error: sms "+13125550100" "Voicemail from {caller}: {msg.url}"\n'
    '            log "stored as {stored.id}"\n'
    '        on error: log "the recording failed"\n'
    '    say "Thank you. Goodbye."\n'
    "\n"
    "on hangup:\n"
    '    log "caller gone"\n'
)


def posting_after_the_hangup() -> tuple[Call, Outcome]:
    call = Call.of(POSTING)
    call.start()
    call.settle()
    call.event("call.hangup", hangup_cause="normal_clearing")
    return call, call.event("call.recording.saved", **SAVED)


def fetch_ended(call: Call, status: str, **payload: object) -> Outcome:
    request = next(o.fetch for o in reversed(call.outcomes) if o.fetch is not None)
    return call.event(FETCH_ENDED, client_state=request.client_state, status=status, **payload)


def test_a_fetch_in_on_saved_after_the_hangup_is_made_and_waited_for() -> None:
    call, out = posting_after_the_hangup()
    assert out.end is None and out.waiting == "fetch" and not out.commands
    assert out.fetch is not None
    assert (out.fetch.method, out.fetch.url) == ("POST", "https://api.example.com/voicemails")
    assert out.fetch.body == {"url": "https://r.example/v.mp3", "from": "+15550001111"}
    assert out.state["detached"] is True


def test_the_backends_answer_continues_on_saved_then_on_hangup_without_the_call() -> None:
    call, _ = posting_after_the_hangup()
    out = fetch_ended(call, "ok", result={"id": "vm-7"})
    assert out.end is not None and out.end.reason == "hangup"
    assert not out.commands
    assert call.logs == ["stored as vm-7", "caller gone"]


def test_a_failed_fetch_after_the_hangup_runs_its_on_error_then_ends() -> None:
    call, _ = posting_after_the_hangup()
    out = fetch_ended(call, "error", reason="the backend answered HTTP 500")
    assert out.end is not None and out.end.reason == "hangup"
    assert [c.to_json()["request"] for c in out.commands] == ["POST /messages"]
    assert out.commands[0].body["text"] == "Voicemail from +15550001111: https://r.example/v.mp3"
    assert call.logs[-1] == "caller gone"


def test_a_late_hangup_while_the_detached_fetch_waits_changes_nothing() -> None:
    call, _ = posting_after_the_hangup()
    assert call.event("call.hangup", hangup_cause="normal_clearing").ignored
    out = fetch_ended(call, "ok", result={"id": "vm-8"})
    assert call.logs == ["stored as vm-8", "caller gone"]
    assert out.end is not None and out.end.reason == "hangup"


def test_with_the_caller_still_there_the_fetch_answer_goes_on_with_the_call() -> None:
    call = Call.of(POSTING)
    call.start()
    call.settle()
    out = call.event("call.recording.saved", **SAVED)
    assert out.waiting == "fetch" and "detached" not in out.state
    out = fetch_ended(call, "ok", result={"id": "vm-9"})
    assert actions(out.commands) == ["speak"] and out.end is None


def test_a_recording_in_a_called_step_does_not_go_back_to_the_caller_after_the_hangup() -> None:
    call = Call.of(
        HEAD + "    call voicemail\n"
        '    log "back from the voicemail"\n'
        '    say "Goodbye."\n'
        "\n"
        "voicemail:\n"
        "    record into msg:\n"
        '        on saved: log "saved"\n'
        '        on error: log "failed"\n'
    )
    call.start()
    call.settle()
    call.event("call.hangup", hangup_cause="normal_clearing")
    out = call.event("call.recording.saved", **SAVED)
    assert out.end is not None and out.end.reason == "hangup"
    assert call.logs == ["saved"]


TELLS_THE_BACKEND = HEAD + (
    '    say "Hello."\n\non hangup:\n'
    '    fetch "https://api.example.com/gone" method "POST" into told:\n'
    "        send who = caller\n"
    '        on error: log "not told"\n'
    '    log "after {told.id}"\n'
)


def test_a_fetch_in_on_hangup_is_made_and_waited_for_then_the_run_ends() -> None:
    # LANGUAGE.md 1 and 14: `fetch` does not touch the call, so `on hangup:` may tell a backend.
    call = Call.of(TELLS_THE_BACKEND)
    call.start()
    call.complete()
    out = call.event("call.hangup", hangup_cause="normal_clearing")
    assert out.end is None and out.waiting == "fetch" and not out.commands
    assert out.fetch is not None and out.fetch.body == {"who": "+15550001111"}
    assert out.state["detached"] is True and out.state["ending"] is True
    # A second hangup while it waits changes nothing.
    assert call.event("call.hangup", hangup_cause="normal_clearing").ignored
    out = fetch_ended(call, "ok", result={"id": "g-1"})
    assert out.end is not None and out.end.reason == "hangup" and not out.commands
    assert call.logs == ["after g-1"]


def test_a_failed_fetch_in_on_hangup_runs_its_on_error_then_the_run_ends() -> None:
    call = Call.of(TELLS_THE_BACKEND)
    call.start()
    call.complete()
    call.event("call.hangup", hangup_cause="normal_clearing")
    out = fetch_ended(call, "error", reason="the backend answered HTTP 500")
    assert out.end is not None and out.end.reason == "hangup"
    assert call.logs[0] == "not told" and call.logs[-1] == "after "


def test_after_the_hangup_the_run_waits_for_the_recording_at_most_ten_minutes() -> None:
    call = voicemail()
    assert call.last.expires is None
    out = call.event("call.hangup", hangup_cause="normal_clearing")
    assert out.expires == RECORDING_WAIT_SECS == 600


def test_a_recording_that_never_arrives_ends_the_run_without_on_saved() -> None:
    call = voicemail()
    call.event("call.hangup", hangup_cause="normal_clearing")
    out = call.event(WAIT_EXPIRED)
    assert out.end == End("hangup", "no recording arrived within 10 minutes after the caller "
                                    "hung up")
    assert out.expires is None and not out.commands
    warning, gone = out.logs
    assert warning.level == "warning" and warning.line == 6
    assert "`on saved:` and `on error:` did not run" in warning.text
    assert gone.text == "caller gone"
    assert "msg" not in out.state["vars"]
    assert call.event("call.recording.saved", **SAVED).ignored


def test_the_limit_means_nothing_while_the_caller_is_still_there() -> None:
    call = voicemail()
    assert call.event(WAIT_EXPIRED).ignored
    posting, _ = posting_after_the_hangup()
    assert posting.event(WAIT_EXPIRED).ignored


def test_try_again_after_the_caller_hung_up_still_refuses_the_entry() -> None:
    # (FL840 refuses `try again` in `on saved:`; a flow run without `check` must still not go
    # on in the handler as if the entry were right.)
    call = Call.unchecked(HEAD + (
        "    gather digits 4 into pin:\n"
        '        say "PIN?"\n'
        "        on digits:\n"
        "            record into note max 1m:\n"
        "                on saved:\n"
        '                    if pin != "4321":\n'
        "                        try again\n"
        '                    sms "+13125550100" "PIN accepted"\n'
        "        on invalid: hangup\n"
    ))
    call.start()
    call.settle()
    call.press("1111")
    assert call.last.waiting == "record"
    call.event("call.hangup", hangup_cause="normal_clearing")
    out = call.event("call.recording.saved", **SAVED)
    assert out.end is not None and out.end.reason == "hangup"
    assert not [c for c in call.commands if c.action == "message"]
