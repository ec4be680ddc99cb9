"""The words a person types at the debugger's prompt, and what each does to the session."""

from __future__ import annotations

from collections.abc import Callable

from attrs import define

from flowlang.offline.debug.calls import caller_words
from flowlang.offline.debug.session import DebugError, Session
from flowlang.offline.simulator import InputError, parse_input

HELP = """\
Moving through the call:
  step (s)            run the next line, going into a `call`ed step
  next (n)            run the next line of this step (a `call` runs as one line)
  out (finish)        run until the `call`ed step you are in returns
  continue (c)        run until a breakpoint, or until the call waits for the caller
  (Enter)             do the last of these again
Breakpoints:
  break 12            stop before line 12 runs (break common.flow:3 for an included file)
  break menu          stop whenever the call goes into step menu
  break               list the breakpoints
  delete 2            delete breakpoint 2 (delete alone: all of them)
Looking around:
  where (w)           the line and step the call is at, the `call`s it is inside,
                      and what it waits for
  list (l)            the flow's lines around the current one (list 30, list menu)
  vars (v)            every variable and its value, here
  print NAME (p)      one variable (print order.status for a field)
When the call waits for the caller, type what the caller does:
  1, press 1234#      press keys        timeout    say nothing until the question times out
  hangup              hang up           ai={...}, fetch={...}, saved, answered, ... as in
                                        `flowlang simulate` (docs/simulate.md)
Other:
  restart             start a new call (breakpoints are kept)
  help (h)            this help
  quit (q)            stop debugging"""

MOVES = {
    "step": "step",
    "s": "step",
    "next": "next",
    "n": "next",
    "out": "out",
    "finish": "out",
    "continue": "continue",
    "cont": "continue",
    "c": "continue",
}


@define
class Console:
    """Reads one typed line at a time (`command`) and answers with lines to show; `done`
    turns True once the person quits."""

    session: Session
    done: bool = False
    last_move: str | None = None

    def start(self) -> list[str]:
        return self.session.begin()

    def command(self, typed: str) -> list[str]:
        """What `typed` does, as lines to show; a mistake is explained, never raised."""
        text = typed.strip()
        if not text:
            if self.last_move is None:
                return []
            text = self.last_move
        word, _, rest = text.partition(" ")
        word = word.lower()
        try:
            return self.dispatch(word, rest.strip(), text)
        except (DebugError, InputError) as exc:
            return [str(exc)]

    def dispatch(self, word: str, rest: str, text: str) -> list[str]:
        session = self.session
        if word in MOVES:
            self.no_argument(word, rest)
            self.last_move = word
            return session.move(MOVES[word])
        simple: dict[str, Callable[[], list[str]]] = {
            "where": session.where,
            "w": session.where,
            "bt": session.where,
            "vars": session.show_vars,
            "v": session.show_vars,
            "restart": session.restart,
        }
        if word in simple:
            self.no_argument(word, rest)
            return simple[word]()
        if word in ("quit", "q", "exit"):
            self.done = True
            return []
        if word in ("help", "h", "?"):
            return HELP.splitlines()
        if word in ("break", "b"):
            return session.add_breakpoint(rest) if rest else session.list_breakpoints()
        if word in ("delete", "d", "clear"):
            return session.delete(rest)
        if word in ("print", "p"):
            return session.print_value(rest)
        if word in ("list", "l"):
            return session.listing(rest)
        return self.caller_does(text)

    def caller_does(self, text: str) -> list[str]:
        """Typed text that is no command: what the caller does, when the call waits for it."""
        try:
            parse_input(caller_words(text))
        except InputError as exc:
            if str(exc).startswith(f"`{caller_words(text)}` is not a caller input"):
                raise DebugError(
                    f"`{text}` is not a debugger command, nor something the caller can do: "
                    "type help for the commands"
                ) from None
            raise
        return self.session.give(text)

    @staticmethod
    def no_argument(word: str, rest: str) -> None:
        if rest:
            raise DebugError(f"`{word}` takes nothing after it (got `{rest}`); type help")
