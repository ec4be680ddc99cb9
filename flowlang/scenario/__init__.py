"""Scenario tests for flows: the `.scenarios` format, running scenarios, and what they cover."""
