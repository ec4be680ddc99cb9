"""`flowlang fmt` on files and folders: in place, --check, --diff, syntax errors, bad input."""

from __future__ import annotations

import os

import pytest

from flowlang.cli import main

MESSY = 'main:\n  say "Hi" # greet\n  gather tries 2:\n   on digits "1":\n    hangup\n'
TIDY = 'main:\n    say "Hi"  # greet\n    gather tries 2:\n        on digits "1": hangup\n'
BROKEN = 'main:\n    sya "Hi"\n'


@pytest.fixture
def files(tmp_path):
    (tmp_path / "messy.flow").write_text(MESSY, encoding="utf-8")
    (tmp_path / "tidy.flow").write_text(TIDY, encoding="utf-8")
    return tmp_path


def test_rewrites_changed_files_in_place_and_leaves_tidy_ones_alone(files, capsys):
    tidy = files / "tidy.flow"
    os.utime(tidy, (1_000_000, 1_000_000))
    assert main(["fmt", str(files)]) == 0
    assert (files / "messy.flow").read_text(encoding="utf-8") == TIDY
    assert tidy.stat().st_mtime == 1_000_000  # not rewritten
    err = capsys.readouterr().err
    assert f"reformatted {files / 'messy.flow'}" in err
    assert "1 file reformatted, 1 file already formatted." in err


def test_check_names_the_files_that_would_change_and_writes_nothing(files, capsys):
    assert main(["fmt", "--check", str(files)]) == 1
    assert (files / "messy.flow").read_text(encoding="utf-8") == MESSY
    out = capsys.readouterr().out
    assert out == f"would reformat {files / 'messy.flow'}\n"


def test_check_passes_when_every_file_is_formatted(files, capsys):
    assert main(["fmt", "--check", str(files / "tidy.flow")]) == 0
    assert capsys.readouterr().out == ""


def test_diff_prints_a_unified_diff_and_writes_nothing(files, capsys):
    path = files / "messy.flow"
    assert main(["fmt", "--diff", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == MESSY
    out = capsys.readouterr().out
    assert out.startswith(f"--- {path} (before)\n+++ {path} (formatted)\n@@ ")
    assert '-  say "Hi" # greet\n' in out
    assert '+    say "Hi"  # greet\n' in out


def test_check_with_diff_prints_the_diff_and_fails(files, capsys):
    assert main(["fmt", "--check", "--diff", str(files / "messy.flow")]) == 1
    assert "@@ " in capsys.readouterr().out


def test_a_syntax_error_is_shown_and_other_files_are_still_formatted(files, capsys):
    (files / "broken.flow").write_text(BROKEN, encoding="utf-8")
    assert main(["fmt", str(files)]) == 1
    assert (files / "messy.flow").read_text(encoding="utf-8") == TIDY
    assert (files / "broken.flow").read_text(encoding="utf-8") == BROKEN
    err = capsys.readouterr().err
    assert f"--> {files / 'broken.flow'}:2:5" in err
    assert "error[FL" in err


def test_a_missing_path_is_a_usage_error(tmp_path, capsys):
    assert main(["fmt", str(tmp_path / "nope.flow")]) == 2
    err = capsys.readouterr().err
    assert err == f"flowlang: error: {tmp_path / 'nope.flow'}: no such file or folder\n"


def test_unreadable_input_exits_2_after_formatting_the_rest(files, capsys):
    (files / "latin1.flow").write_bytes('main:\n    say "caf\xe9"\n'.encode("latin-1"))
    assert main(["fmt", str(files)]) == 2
    assert (files / "messy.flow").read_text(encoding="utf-8") == TIDY
    err = capsys.readouterr().err
    assert f"flowlang: error: {files / 'latin1.flow'}: not UTF-8 text" in err


def test_a_file_that_cannot_be_written_is_left_as_it_was_and_not_counted_as_reformatted(
    files, capsys, monkeypatch
):
    # The disk fills up while the new text is written (the test may run as root, for which a
    # write-protected file is no obstacle: the failure is made where it happens).
    import errno
    import os
    import stat

    messy = files / "messy.flow"
    messy.chmod(0o640)

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert main(["fmt", str(files)]) == 2
    assert messy.read_text(encoding="utf-8") == MESSY
    assert sorted(p.name for p in files.iterdir()) == ["messy.flow", "tidy.flow"]
    err = capsys.readouterr().err
    assert f"{messy}: cannot write the file (No space left on device)" in err
    assert "reformatted" not in err.replace("would be reformatted", "")
    assert err.splitlines()[-1] == (
        "1 file already formatted, 1 file could not be written (left as it was)."
    )
    monkeypatch.undo()
    # When it can be written, it is replaced whole, keeping its permissions.
    assert main(["fmt", str(files)]) == 0
    assert messy.read_text(encoding="utf-8") == TIDY
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640


def test_a_flow_reached_through_a_symbolic_link_is_formatted_and_the_link_kept(tmp_path, capsys):
    real = tmp_path / "real.flow"
    real.write_text(MESSY, encoding="utf-8")
    link = tmp_path / "link.flow"
    link.symlink_to(real)
    assert main(["fmt", str(link)]) == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8") == TIDY


def test_a_folder_without_flows_is_a_usage_error(tmp_path, capsys):
    assert main(["fmt", str(tmp_path)]) == 2
    assert "no .flow files found" in capsys.readouterr().err


def test_formatting_keeps_what_the_flow_means_on_a_real_example(tmp_path, capsys):
    from flowlang.syntax.parser import parse

    path = tmp_path / "acme.flow"
    original = (
        'voice "V"\nmain:\n  gather digits 6 into account terminator "#":\n'
        '    say "Enter your account."\n    on digits:\n      transfer "+1312"\n'
    )
    path.write_text(original, encoding="utf-8")
    assert main(["fmt", str(path)]) == 0
    formatted = path.read_text(encoding="utf-8")
    assert parse(formatted) == parse(original)
    assert 'gather digits 6 terminator "#" into account:' in formatted


def test_windows_line_breaks_are_kept_and_a_missing_last_one_is_added(tmp_path, capsys):
    # The file stays as its editor (and git) had it: only the layout changes.
    path = tmp_path / "crlf.flow"
    path.write_bytes(b'main:\r\n    say "a"  # c\r\n    hangup')
    assert main(["fmt", "--diff", str(path)]) == 0
    assert "-    hangup\n\\ No newline at end of file\n" in capsys.readouterr().out
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() == b'main:\r\n    say "a"  # c\r\n    hangup\r\n'
    capsys.readouterr()
    assert main(["fmt", "--check", str(path)]) == 0
    assert "1 file already formatted." in capsys.readouterr().err


def test_a_diff_of_a_windows_file_shows_the_lines_without_their_line_breaks(tmp_path, capsys):
    path = tmp_path / "crlf.flow"
    path.write_bytes(MESSY.replace("\n", "\r\n").encode())
    assert main(["fmt", "--diff", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out
    assert out.startswith(f"--- {path} (before)\n+++ {path} (formatted)\n@@ ")
    assert '-  say "Hi" # greet\n' in out
    assert '+    say "Hi"  # greet\n' in out
    assert "line breaks" not in out


def test_a_diff_where_only_line_breaks_change_says_so_once(tmp_path, capsys):
    path = tmp_path / "mixed.flow"
    path.write_bytes(TIDY.replace("\n", "\r\n", 1).encode())
    assert main(["fmt", "--diff", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}: only line breaks change: 3 lines end in \"\\n\"; formatted, every line"
        ' ends in "\\r\\n" (Windows line breaks), as the first line does\n'
    )


def test_a_diff_that_changes_lines_and_line_breaks_says_so_before_the_lines(tmp_path, capsys):
    path = tmp_path / "mixed.flow"
    path.write_bytes(MESSY.replace("\n", "\r\n", 1).encode())
    assert main(["fmt", "--diff", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out
    assert out.startswith(
        f"{path}: line breaks change too: 4 lines end in \"\\n\"; formatted, every line"
        ' ends in "\\r\\n" (Windows line breaks), as the first line does\n'
        f"--- {path} (before)\n"
    )
    assert '+    say "Hi"  # greet\n' in out


def test_the_first_line_break_decides_for_a_file_that_mixes_them(tmp_path, capsys):
    windows = tmp_path / "windows.flow"
    windows.write_bytes(b'main:\r\n    say "a"\n    hangup\n')
    unix = tmp_path / "unix.flow"
    unix.write_bytes(b'main:\n    say "a"\r\n    hangup\r\n')
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert main(["fmt", str(tmp_path)]) == 0
    assert windows.read_bytes() == b'main:\r\n    say "a"\r\n    hangup\r\n'
    assert unix.read_bytes() == b'main:\n    say "a"\n    hangup\n'


def test_a_byte_order_mark_is_kept(tmp_path, capsys):
    # Notepad's mark is how the file is saved, not a change of layout: a tidy file with one
    # is already formatted, and a file rewritten keeps it.
    bom = "\ufeff".encode()
    tidy, messy = tmp_path / "tidy.flow", tmp_path / "messy.flow"
    tidy.write_bytes(bom + TIDY.replace("\n", "\r\n").encode())
    messy.write_bytes(bom + MESSY.encode())
    assert main(["fmt", str(tmp_path)]) == 0
    assert "1 file reformatted, 1 file already formatted." in capsys.readouterr().err
    assert messy.read_bytes() == bom + TIDY.encode()
    assert tidy.read_bytes() == bom + TIDY.replace("\n", "\r\n").encode()


def test_old_mac_line_breaks_are_normalised_too(tmp_path, capsys):
    # A lone carriage return ends a line for the parser (as for an editor): the file is read,
    # and `fmt` writes it with the line breaks every other file has.
    path = tmp_path / "mac.flow"
    path.write_bytes(b'main:\r    say "a"  # c\r    hangup\r')
    assert main(["fmt", "--check", str(path)]) == 1
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() == b'main:\n    say "a"  # c\n    hangup\n'


def test_a_dash_formats_standard_input_to_standard_output(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(MESSY.encode("utf-8"))))
    assert main(["fmt", "-"]) == 0
    assert capsys.readouterr().out == TIDY


def test_a_dash_keeps_the_line_breaks_and_byte_order_mark_of_its_input(monkeypatch, capsysbinary):
    import io

    given = "\ufeff" + MESSY.replace("\n", "\r\n")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(given.encode("utf-8"))))
    assert main(["fmt", "-"]) == 0
    assert capsysbinary.readouterr().out == ("\ufeff" + TIDY.replace("\n", "\r\n")).encode()


def test_a_dash_with_check_reports_by_exit_status(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(MESSY.encode("utf-8"))))
    assert main(["fmt", "--check", "-"]) == 1
    assert capsys.readouterr().out == ""
