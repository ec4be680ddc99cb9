"""The parts of the `.flow` parser: indentation, string literals, tree building, error wording."""
