"""The debugger's core, without a terminal: stepping, breakpoints, waits, variables, mistakes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flowlang.offline.debug.calls import SimulatedCall, tries
from flowlang.offline.debug.console import Console
from flowlang.offline.debug.session import Session
from tests.sim.helpers import EXAMPLES, VOICE, flow, program

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

MENU = VOICE + flow(
    """\
    main:
        answer
        set visits = 0
        goto menu

    menu:
        set visits = visits + 1
        gather tries 3:
            say "For sales press 1, to hear this again press 9."
            reprompt "Sorry."

            on digits "1":
                say "Sales."
                transfer "+13125550001"
            on digits "9": goto menu
            on timeout: say "Nothing heard."
        say "Goodbye."
        hangup
    """
)

CALLS = VOICE + flow(
    """\
    main:
        answer
        call greet
        say "Back in main."
        hangup

    greet:
        set greeted = true
        say "Hello."
        call thanks
        return

    thanks:
        say "Thanks."
    """
)


def debugger(text: str) -> tuple[Console, str]:
    """A console on a simulated call of `text`, and what it showed first."""
    compiled = program(text)
    console = Console(Session(lambda: SimulatedCall(compiled, at=AT)))
    return console, "\n".join(console.start())


def typed(console: Console, *lines: str) -> str:
    """What the console answers to each typed line, all together."""
    return "\n".join(out for line in lines for out in console.command(line))


def test_it_stops_before_the_first_line_runs() -> None:
    _, shown = debugger(MENU)
    assert shown == "line 3, step main: answer"


def test_step_shows_what_the_line_did_and_stops_at_the_next() -> None:
    console, _ = debugger(MENU)
    assert typed(console, "step") == (
        "  line 3    answer the call\n"
        "line 4, step main: set visits = 0"
    )
    assert typed(console, "s") == "line 5, step main: goto menu"
    assert typed(console, "s") == "line 8, step menu: set visits = visits + 1"


def test_enter_repeats_the_last_movement() -> None:
    console, _ = debugger(MENU)
    typed(console, "s")
    assert typed(console, "") == "line 5, step main: goto menu"


def test_continue_stops_at_a_line_breakpoint() -> None:
    console, _ = debugger(MENU)
    assert typed(console, "break 8") == "breakpoint 1: at line 8: set visits = visits + 1"
    out = typed(console, "c")
    assert out.splitlines()[-2:] == [
        "stopped at breakpoint 1",
        "line 8, step menu: set visits = visits + 1",
    ]
    assert "  line 3    answer the call" in out
    assert "step menu (line 7)" not in out  # the stop itself names the step


def test_a_breakpoint_on_a_line_without_a_statement_moves_to_the_next() -> None:
    console, _ = debugger(MENU)
    assert typed(console, "break 12") == (
        "line 12 has no statement of its own; the breakpoint is at line 14, the next one\n"
        'breakpoint 1: at line 14: say "Sales."'
    )


def test_a_step_breakpoint_stops_each_time_the_call_goes_into_the_step() -> None:
    console, _ = debugger(MENU)
    typed(console, "break menu")
    assert typed(console, "c").splitlines()[-2:] == [
        "stopped at breakpoint 1: the call went into step menu",
        "line 8, step menu: set visits = visits + 1",
    ]
    typed(console, "c")
    assert typed(console, "9").splitlines()[-2:] == [
        "stopped at breakpoint 1: the call went into step menu",
        "line 8, step menu: set visits = visits + 1",
    ]
    assert typed(console, "print visits") == "  visits = 1"


def test_the_wait_says_the_keys_and_the_tries_left() -> None:
    console, _ = debugger(MENU)
    out = typed(console, "c")
    assert out.splitlines()[-3:] == [
        "waiting for: key presses (1 key: 1, 9) - try 1 of 3, 2 more tries after this one",
        "  at line 9, step menu: gather tries 3:",
        "type what happens: keys like 1 or 1234#, timeout or hangup",
    ]
    out = typed(console, "5")
    assert "  >>>       caller presses 5 (not a valid entry)" in out
    assert '  line 9    ask "Sorry. For sales press 1, to hear this again press 9."' in out
    assert "try 2 of 3, 1 more try after this one" in out
    assert "last try (3 of 3)" in typed(console, "timeout")


@pytest.mark.parametrize(
    ("number", "total", "words"),
    [(1, 1, "its only try"), (1, 3, "try 1 of 3, 2 more tries after this one"),
     (2, 3, "try 2 of 3, 1 more try after this one"), (3, 3, "last try (3 of 3)")],
    ids=["only", "first", "second", "last"],
)
def test_tries_in_words(number: int, total: int, words: str) -> None:
    assert tries(number, total) == words


def test_the_variables_are_those_of_the_line_where_it_stands() -> None:
    console, _ = debugger(MENU)
    typed(console, "break 8", "c")
    # The call has already run ahead to the question (visits is 1 there); the debugger shows
    # the values before line 8 runs.
    assert typed(console, "vars") == (
        "  visits = 0\n"
        '  caller = "+15550001111"  (built in)\n'
        '  called = "+15550002222"  (built in)\n'
        '  digits = ""  (built in)\n'
        '  now = {"date": "2026-11-23", "hour": 15, "minute": 0, "time": "15:00", '
        '"weekday": "monday"}  (built in)'
    )
    typed(console, "s")
    assert typed(console, "p visits") == "  visits = 1"


def test_print_reads_a_field_and_explains_what_is_missing() -> None:
    console, _ = debugger(MENU)
    assert typed(console, "print now.weekday") == '  now.weekday = "monday"'
    assert typed(console, "print now.year") == (
        "`now` has no field `year` (it has date, hour, minute, time, weekday)"
    )
    assert typed(console, "print visits") == (
        "`visits` has no value here (variables with a value: called, caller, digits, now)"
    )
    assert typed(console, "print") == "print what? Give a variable's name, like print digits"
    assert typed(console, "print now.") == (
        "`now.` is not a variable's name: give one, or a field of one, like print order.status"
    )
    assert typed(console, "print ..").startswith("`..` is not a variable's name")


def test_step_goes_into_a_call_and_where_shows_who_called() -> None:
    console, _ = debugger(CALLS)
    typed(console, "s")
    assert typed(console, "s") == "line 9, step greet: set greeted = true"
    assert typed(console, "where") == (
        "line 9, step greet: set greeted = true\n"
        "  called from step main, line 4: call greet"
    )


def test_next_runs_a_call_as_one_line() -> None:
    console, _ = debugger(CALLS)
    typed(console, "n")
    out = typed(console, "n")
    assert out.splitlines()[-1] == "line 5, step main: say \"Back in main.\""
    assert '  line 10   say "Hello."' in out
    assert '  line 15   say "Thanks."' in out


def test_out_runs_until_the_call_returns() -> None:
    console, _ = debugger(CALLS)
    typed(console, "break thanks", "c")
    assert typed(console, "where").splitlines()[1:] == [
        "  called from step greet, line 11: call thanks",
        "  called from step main, line 4: call greet",
    ]
    assert typed(console, "out").splitlines()[-1] == "line 12, step greet: return"
    assert typed(console, "out").splitlines()[-1] == 'line 5, step main: say "Back in main."'
    assert typed(console, "out") == (
        "step main was not started by a `call`, so there is nothing to step out of: "
        "use next (n) or continue (c)"
    )


def test_the_caller_acts_only_when_the_call_waits() -> None:
    console, _ = debugger(MENU)
    assert typed(console, "1") == (
        "the call is not waiting for the caller yet: it is at line 3, step main. "
        "Type continue (c) to run to what it waits for, or step (s)"
    )
    typed(console, "c")
    out = typed(console, "press 1")
    assert "  >>>       caller presses 1" in out
    assert out.splitlines()[-1] == "the call ended: the caller was transferred"
    assert typed(console, "s") == "the call has ended: type restart for a new call, or quit"
    assert typed(console, "hangup") == "the call has ended: type restart for a new call, or quit"


def test_a_movement_asked_at_a_wait_applies_after_the_caller_acts() -> None:
    console, _ = debugger(MENU)
    typed(console, "c")
    assert typed(console, "s") == (
        "the call waits for the caller: type what the caller does "
        "(keys like 1 or 1234#, timeout or hangup); then it goes on with step"
    )
    assert typed(console, "1").splitlines()[-1] == 'line 14, step menu: say "Sales."'


def test_a_hangup_ends_the_call_and_the_variables_stay_readable() -> None:
    console, _ = debugger(MENU)
    out = typed(console, "c", "hangup")
    assert out.splitlines()[-2:] == ["  >>>       caller hangs up",
                                     "the call ended: the call was hung up"]
    assert typed(console, "print visits") == "  visits = 1"
    assert typed(console, "where") == "the call ended: the call was hung up"


def test_restart_keeps_the_breakpoints() -> None:
    console, _ = debugger(MENU)
    typed(console, "break menu", "c", "c", "hangup")
    assert typed(console, "restart") == (
        "a new call starts (breakpoints kept)\nline 3, step main: answer"
    )
    assert "stopped at breakpoint 1" in typed(console, "c")


def test_restart_after_every_breakpoint_was_deleted_does_not_say_they_were_kept() -> None:
    console, _ = debugger(MENU)
    typed(console, "break menu", "break 3", "delete 1", "delete 2")
    assert typed(console, "restart") == "a new call starts\nline 3, step main: answer"
    typed(console, "break menu", "delete")
    assert typed(console, "restart") == "a new call starts\nline 3, step main: answer"


def test_list_marks_the_current_line_and_the_breakpoints() -> None:
    console, _ = debugger(MENU)
    typed(console, "break 5")
    assert typed(console, "list") == "\n".join([
        "      1  voice \"Telnyx.KokoroTTS.af\"",
        "      2  main:",
        "->    3      answer",
        "      4      set visits = 0",
        "  B   5      goto menu",
        "      6",
        "      7  menu:",
        "      8      set visits = visits + 1",
    ])
    assert typed(console, "list menu").splitlines()[0] == "      6"


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("jump 3", "`jump 3` is not a debugger command, nor something the caller can do: "
                   "type help for the commands"),
        ("break menuu", "`menuu` is neither a line number nor a step of this flow; did you "
                        "mean menu? (its steps: main, menu)"),
        ("break 99", "`break 99`: no statement is on line 99 or after it; type list to see "
                     "the flow's lines"),
        ("break x.flow:3", "`x.flow` is not one of the flow's files (test.flow)"),
        ("break 0", "`0` is not a line: give a line number (break 12), a file and a line "
                    "(break common.flow:3) or a step's name"),
        ("delete two", "`delete two`: give a breakpoint's number (see `break`), or nothing to "
                       "delete them all"),
        ("delete 4", "there is no breakpoint 4: there are none"),
        ("step 2", "`step` takes nothing after it (got `2`); type help"),
        ("list 500", "line 500 is past the end of test.flow (it has 19 lines)"),
        ("ai={oops", "`ai={oops`: not valid JSON (Expecting property name enclosed in double "
                     "quotes at character 2); write it like ai={\"name\": \"Bob\", \"guests\": 4}"),
    ],
    ids=["unknown", "step-typo", "past-end", "no-file", "line-zero", "delete-word",
         "delete-none", "step-arg", "list-past-end", "bad-json"],
)
def test_mistakes_are_explained(command: str, answer: str) -> None:
    console, _ = debugger(MENU)
    assert typed(console, command) == answer


def test_a_second_breakpoint_at_the_same_place_is_refused() -> None:
    console, _ = debugger(MENU)
    typed(console, "break 4")
    assert typed(console, "break 4") == (
        "there is already a breakpoint at line 4: set visits = 0"
    )
    assert typed(console, "break") == "breakpoint 1: at line 4: set visits = 0"
    assert typed(console, "delete 1") == "deleted breakpoint 1 (at line 4: set visits = 0)"
    assert typed(console, "break") == (
        "no breakpoints: set one with break LINE or break STEP"
    )


ERROR = (
    "the flow ran 1,000 statements without waiting for the caller; it is probably stuck in a "
    "`goto` loop"
)


def test_an_error_ends_the_call_at_its_line() -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            goto spin

        spin:
            if caller == "nobody":
                say "Never."
            goto spin
        """
    )
    console, _ = debugger(text)
    out = typed(console, "c")
    assert "step spin (line 6)  (and 499 more times)" in out
    assert out.splitlines()[-2:] == [
        "            hang up",  # flowlang's own hangup: no line of the flow sent it
        "the call ended with an error at line 9: " + ERROR,
    ]
    assert typed(console, "where") == "the call ended with an error at line 9: " + ERROR


def test_a_fetch_waits_for_the_backend_and_names_the_request() -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            fetch "https://api.example.com/orders/{caller}" into order
            say "Your order is {order.state}."
            hangup
        """
    )
    console, _ = debugger(text)
    out = typed(console, "c")
    assert "fetch GET https://api.example.com/orders/%2B15550001111" in out
    assert out.splitlines()[-3] == (
        "waiting for: the backend's answer to GET "
        "https://api.example.com/orders/%2B15550001111"
    )
    out = typed(console, 'fetch={"state": "shipped"}')
    assert '  >>>       the backend answers {"state": "shipped"}' in out
    assert '  line 5    say "Your order is shipped."' in out
    assert typed(console, "print order.state") == '  order.state = "shipped"'


def test_the_try_after_try_again_is_shown_at_its_gather() -> None:
    # As simulate shows it: the gather sends its next try, not the `try again`.
    text = VOICE + flow(
        """\
        main:
            answer
            gather digits 4 into pin:
                say "Enter your PIN."
                reprompt invalid "Wrong PIN."
                on digits:
                    if pin != "4321":
                        try again
                    hangup
                on invalid: hangup
                on timeout: hangup
        """
    )
    console, _ = debugger(text)
    typed(console, "c")
    out = typed(console, "1111")
    assert '  line 4    ask "Wrong PIN. Enter your PIN." (4 keys)' in out.splitlines()


def test_print_reads_a_list_as_the_flow_does() -> None:
    # `{found.orders.last.id}` reads a list in a backend's answer (LANGUAGE.md, fetch): the
    # debugger's print reads the same path.
    text = VOICE + flow(
        """\
        main:
            answer
            fetch "https://api.example.com/orders/{caller}" into found
            say "Your last order is {found.orders.last.id}."
            hangup
        """
    )
    console, _ = debugger(text)
    typed(console, "c", 'fetch={"orders": [{"id": "A1"}, {"id": "B2"}], "none": []}')
    assert typed(console, "print found.orders.count") == "  found.orders.count = 2"
    assert typed(console, "print found.orders.first") == '  found.orders.first = {"id": "A1"}'
    assert typed(console, "print found.orders.last.id") == '  found.orders.last.id = "B2"'
    assert typed(console, "print found.orders.second") == (
        "`found.orders` has no field `second` (it has first, last, count)"
    )
    assert typed(console, "print found.none.count") == "  found.none.count = 0"
    assert typed(console, "print found.none.first") == (
        "`found.none` has no field `first` (it has only count: the list is empty)"
    )


def test_an_included_file_is_named_in_lines_and_breakpoints() -> None:
    from flowlang.cli.inputs import read_source
    from flowlang.compiler import compile_source

    compiled = compile_source(read_source(EXAMPLES / "clinic.flow"))
    console = Console(Session(lambda: SimulatedCall(compiled, at=AT)))
    console.start()
    common = str(EXAMPLES / "shared" / "common.flow")
    assert typed(console, "break common.flow:8") == (
        f"breakpoint 1: at {common} line 8: set wrong_before = false"
    )
    typed(console, "c")
    out = typed(console, "1")
    assert out.splitlines()[-1] == f"{common} line 8, step verify: set wrong_before = false"


def test_next_asked_at_a_wait_inside_a_call_stays_in_that_step() -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            call ask
            say "Back."

        ask:
            gather:
                say "Press 1."
                on digits "1": call thanks
            say "Asked."

        thanks:
            say "Thanks."
        """
    )
    console, _ = debugger(text)
    typed(console, "c")
    typed(console, "next")
    # The first line the answer leads to is in `ask` itself (a `call` deep), so it stops there.
    assert typed(console, "1").splitlines()[-1] == 'line 10, step ask: on digits "1": call thanks'
    # Then `call thanks` runs as one line.
    out = typed(console, "next")
    assert out.splitlines()[-1] == 'line 11, step ask: say "Asked."'
    assert '  line 14   say "Thanks."' in out
