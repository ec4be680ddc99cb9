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
