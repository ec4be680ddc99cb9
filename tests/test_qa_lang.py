"""QA (area lang): lint findings and formatting a flow writer expects from LANGUAGE.md 1-6."""

from __future__ import annotations

import pytest

from flowlang.lint import check_source
from flowlang.source import Source
from flowlang.syntax.fmt import format_flow, format_text
from flowlang.syntax.parser import parse

HEAD = 'voice "Telnyx.KokoroTTS.af"\nmain:\n    answer\n'
ENDS = "        on invalid: hangup\n        on timeout: hangup\n"


def findings(text: str) -> list[tuple[str, int, str]]:
    return [
        (d.code, d.span.line if d.span else 0, d.message)
        for d in check_source(Source("t.flow", text))
    ]


def codes(text: str) -> list[tuple[str, int]]:
    return [(code, line) for code, line, _ in findings(text)]


# gather keys: a terminator is one phone key, `valid` lists phone keys only


@pytest.mark.parametrize("value", ["A", "##", "", "pound"])
def test_a_gather_terminator_that_is_not_one_phone_key_is_an_error(value: str) -> None:
    text = HEAD + f'    gather terminator "{value}":\n        on digits: hangup\n' + ENDS
    found = findings(text)
    assert [(c, line) for c, line, _ in found] == [("FL304", 4)]
    assert "not a single phone key" in found[0][2]


@pytest.mark.parametrize("value", ["12x", "", "1 2", "abc"])
def test_gather_valid_keys_that_are_not_phone_keys_are_an_error(value: str) -> None:
    text = HEAD + f'    gather valid "{value}":\n        on digits: hangup\n' + ENDS
    assert codes(text) == [("FL304", 4)]


@pytest.mark.parametrize("term,valid", [("*", "0123456789#"), ("#", "123*"), ("5", "1234")])
def test_gather_phone_keys_pass(term: str, valid: str) -> None:
    text = HEAD + f'    gather terminator "{term}" valid "{valid}":\n'
    text += "        on digits: hangup\n" + ENDS
    assert codes(text) == []


# languages: an ai_gather's language is checked like every other


def test_an_ai_gather_language_telnyx_does_not_speak_is_an_error() -> None:
    text = HEAD + '    ai_gather into b language "klingon":\n        field n string "x"\n'
    assert codes(text) == [("FL404", 4)]


def test_an_ai_gather_language_telnyx_speaks_passes() -> None:
    text = HEAD + '    ai_gather into b language "de-DE":\n        field n string "x"\n'
    assert codes(text) == []


# gather prompts: the `say` lines are spoken as one text, with one voice, language and ssml


def test_gather_prompt_lines_with_different_voices_are_an_error() -> None:
    text = HEAD + (
        "    gather:\n"
        '        say "Press 1" voice "AWS.Polly.Joanna-Neural"\n'
        '        say "or 2" voice "Telnyx.KokoroTTS.af"\n'
        '        on digits "1", "2": hangup\n'
    ) + ENDS
    assert codes(text) == [("FL401", 6)]


def test_a_prompt_line_voice_the_gather_voice_overrides_is_an_error() -> None:
    text = HEAD + (
        '    gather voice "Telnyx.KokoroTTS.af":\n'
        '        say "Press 1" voice "AWS.Polly.Joanna-Neural"\n'
        '        on digits "1": hangup\n'
    ) + ENDS
    assert codes(text) == [("FL401", 5)]


def test_gather_prompt_lines_with_different_languages_are_an_error() -> None:
    text = HEAD + (
        "    gather:\n"
        '        say "Press 1"\n'
        '        say "ou 2" language "fr-FR"\n'
        '        on digits "1", "2": hangup\n'
    ) + ENDS
    assert codes(text) == [("FL401", 6)]


def test_gather_prompt_lines_that_agree_pass() -> None:
    text = HEAD + (
        '    gather language "en-GB":\n'
        '        say "Press 1" voice "AWS.Polly.Joanna-Neural"\n'
        '        say "or 2" voice "AWS.Polly.Joanna-Neural" language "en-GB"\n'
        '        on digits "1", "2": hangup\n'
    ) + ENDS
    assert codes(text) == []


# voices: an empty voice is no voice


@pytest.mark.parametrize(
    "text",
    [
        'voice ""\nmain:\n    answer\n    say "Hello."\n',
        HEAD + '    say "Hello." voice ""\n',
        HEAD + '    gather voice "":\n        say "Press 1"\n        on digits "1": hangup\n'
        + ENDS,
    ],
)
def test_an_empty_voice_is_reported_as_no_voice(text: str) -> None:
    assert "FL403" in [c for c, _ in codes(text)]


# fmt: a comment after `else:` stays there when formatting from the tree alone


def test_format_flow_keeps_a_comment_after_else_after_a_trailing_own_line_comment() -> None:
    text = (
        "main:\n"
        "    answer\n"
        "    if true:\n"
        "        assistant:\n"
        '            instructions ""\n'
        '            message system ""\n'
        "            # own\n"
        "    else:  # after else\n"
        "        answer\n"
    )
    formatted = format_text(text)
    assert formatted == text
    assert format_flow(parse(formatted)) == formatted


# assistant messages: the role is one Telnyx takes


def test_a_message_role_telnyx_does_not_take_is_an_error() -> None:
    text = HEAD + '    assistant id "a-1":\n        instructions "x"\n'
    text += '        message boss "Be nice."\n'
    found = findings(text)
    assert [(c, line) for c, line, _ in found] == [("FL006", 6)]
    assert "`boss` is not a message role" in found[0][2]


@pytest.mark.parametrize(
    "said", ['system "Hi."', 'user "Hi."', 'assistant "Hi."', 'developer "Hi."', 'tool "c1" "Hi."']
)
def test_every_message_role_telnyx_takes_passes(said: str) -> None:
    text = HEAD + f'    assistant id "a-1":\n        instructions "x"\n        message {said}\n'
    assert codes(text) == []


# a reprompt is only spoken on a second try: with `tries 1` it needs no voice


def test_a_reprompt_never_spoken_with_one_try_needs_no_voice() -> None:
    text = (
        "main:\n    answer\n    gather tries 1:\n"
        '        play "https://example.com/menu.mp3"\n'
        '        reprompt "Sorry, again."\n'
        '        on digits "1": hangup\n'
    ) + ENDS
    assert codes(text) == []
    assert codes(text.replace("tries 1", "tries 2")) == [("FL403", 5)]


# check --select / --ignore: a code that names no rule is a usage error, not "all passed"


@pytest.mark.parametrize("option", [["--select", "FL999"], ["--ignore", "FL9"]])
def test_check_refuses_a_rule_code_that_names_no_rule(
    tmp_path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    from flowlang.cli import main

    path = tmp_path / "f.flow"
    path.write_text(HEAD + "    hangup\n", encoding="utf-8")
    assert main(["check", *option, str(path)]) == 2
    assert "no rule" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--select", "FL3"], ["--ignore", "FL308,FL0"]])
def test_check_takes_rule_codes_and_prefixes_that_exist(tmp_path, option: list[str]) -> None:
    from flowlang.cli import main

    path = tmp_path / "f.flow"
    path.write_text(HEAD + "    hangup\n", encoding="utf-8")
    assert main(["check", *option, str(path)]) == 0


def test_a_pyproject_select_that_names_no_rule_is_a_usage_error(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flowlang.cli import main

    (tmp_path / "pyproject.toml").write_text('[tool.flowlang]\nignore = ["FL388"]\n')
    path = tmp_path / "f.flow"
    path.write_text(HEAD + "    hangup\n", encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert "no rule `FL388`" in capsys.readouterr().err


# syntax errors: `else if` (as in many languages) is pointed to `elif`


def test_else_if_is_explained_as_elif() -> None:
    text = HEAD + "    if true:\n        hangup\n    else if false:\n        hangup\n"
    found = findings(text)
    assert [(c, line) for c, line, _ in found] == [("FL001", 6)]
    assert "`elif`" in found[0][2]


def test_digits_written_with_a_dash_is_pointed_to_two_dots() -> None:
    text = HEAD + "    gather digits 1-3:\n        on digits: hangup\n" + ENDS
    found = findings(text)
    assert [(c, line) for c, line, _ in found] == [("FL018", 4)]
    assert "`..`" in found[0][2]
    (diagnostic,) = check_source(Source("t.flow", text))
    assert "`digits 1..3`" in (diagnostic.help or "")


def test_an_option_keyword_written_as_a_file_setting_is_an_unknown_setting() -> None:
    found = findings("tries 3\nmain:\n    answer\n")
    assert [(c, line) for c, line, _ in found] == [("FL004", 1)]
    assert "not a setting" in found[0][2]


def test_a_keyword_as_a_step_name_is_still_a_reserved_word() -> None:
    assert codes("say:\n    answer\n") == [("FL019", 1)]


def test_instructions_greeting_and_message_can_name_steps() -> None:
    # `instructions:` used to be told to move into an assistant block.
    text = (
        'voice "Telnyx.KokoroTTS.af"\ninstructions:\n    answer\n    goto greeting\n'
        'greeting:\n    say "Hello."\n    goto message\nmessage:\n    hangup\n'
    )
    assert codes(text) == []


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ('greeting "hi"\nmain:\n    answer\n', "FL022", "`greeting` lines belong in"),
        ('main:\n    answer\ninstructions "x"\n', "FL022", "`instructions` lines belong in"),
        ('main:\n    answer\nlanguage "en-US"\n', "FL021", "before the first step"),
    ],
)
def test_a_block_line_or_setting_at_the_top_is_still_explained(
    text: str, code: str, message: str
) -> None:
    found = findings(text)
    assert [c for c, _, _ in found] == [code]
    assert message in found[0][2]


def test_a_capitalised_boolean_is_pointed_to_lower_case() -> None:
    text = HEAD + "    set x = True\n    if x == FALSE:\n        hangup\n"
    helps = [d.help for d in check_source(Source("t.flow", text))]
    assert helps == ["did you mean `true`?", "did you mean `false`?"]


def test_check_reports_the_readable_files_and_exits_2_for_an_unreadable_one(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flowlang.cli import main

    (tmp_path / "a.flow").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "b.flow").write_text(HEAD + '    say "{nobody}"\n', encoding="utf-8")
    assert main(["check", "--no-config", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "a.flow" in err and "UTF-8" in err
    assert "FL501" in out


def test_prompt_lines_after_a_first_line_that_names_the_language_need_not_repeat_it() -> None:
    text = HEAD + (
        "    gather:\n"
        '        say "Drücken Sie 1" language "de-DE"\n'
        '        say "oder 2"\n'
        '        on digits "1", "2": hangup\n'
    ) + ENDS
    assert codes(text) == []


def test_a_function_call_is_explained_as_something_flows_cannot_do() -> None:
    found = findings(HEAD + "    set x = len(caller)\n")
    assert [(c, line) for c, line, _ in found] == [("FL001", 4)]
    assert "flows cannot call functions" in found[0][2]


def test_joining_strings_with_plus_points_to_interpolation() -> None:
    (diagnostic,) = check_source(Source("t.flow", HEAD + '    set x = "a" + caller\n'))
    assert diagnostic.code == "FL807"
    assert '"{first} {last}"' in (diagnostic.help or "")


def test_digits_compared_as_a_number_names_the_gather_that_takes_star() -> None:
    # The menu only takes digits, but another gather takes `*`: `digits` is the keys of
    # whichever ran last, so the warning names that other gather and the way out (`into`).
    text = HEAD + (
        '    gather digits 1..4 valid "0123456789":\n'
        '        say "Dial an extension."\n'
        "        on digits:\n"
        "            if digits >= 1000:\n"
        "                goto sub\n"
        "    hangup\n"
        "\n"
        "sub:\n"
        "    gather:\n"
        '        say "Press star to go back."\n'
        '        on digits "*": hangup\n'
    )
    (diagnostic,) = [d for d in check_source(Source("t.flow", text)) if d.code == "FL807"]
    star_line = text.splitlines().index("    gather:") + 1
    assert f'give the gather at line {star_line} `valid "0123456789"`' in (diagnostic.help or "")
    assert "`into NAME`" in (diagnostic.help or "")
    assert diagnostic.notes == ("`digits` holds the keys of whichever gather ran last",)


def test_gather_prompt_mixing_ssml_and_plain_lines_is_accepted() -> None:
    # The interpreter joins them into one <speak> document (plain text escaped).
    text = HEAD + (
        "    gather:\n"
        '        say "<speak>Press 1</speak>" ssml\n'
        '        say "or 2"\n'
        '        on digits "1", "2": hangup\n'
    ) + ENDS
    assert codes(text) == []


def test_an_ai_gather_may_name_a_recognition_language_or_a_speak_language() -> None:
    from flowlang.lint import check_source
    from flowlang.source import Source

    def codes(language: str) -> list[str]:
        text = (
            'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n'
            f'    ai_gather into b language "{language}":\n'
            '        field n string "Name"\n        on valid: hangup\n        on invalid: hangup\n'
        )
        return [d.code for d in check_source(Source("a.flow", text))]

    assert codes("en") == []
    assert codes("en-US") == []
    assert codes("zz") == ["FL404"]
