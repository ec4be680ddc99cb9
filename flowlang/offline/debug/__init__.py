"""Step through one call of a flow, line by line: `flowlang debug`."""
