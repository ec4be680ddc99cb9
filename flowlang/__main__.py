"""`python -m flowlang`: the same command line as `flowlang`."""

from flowlang.cli import entry

entry()
