"""pytest plugin: collects flowlang scenario files so `pytest` runs them (not built yet)."""
