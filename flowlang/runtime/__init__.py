"""Running a compiled flow: a pure interpreter (events in, commands out), with no I/O."""
