"""Running flows without a phone: the phone model, the simulator, scenario tests and fuzzing."""
