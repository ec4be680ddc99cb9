"""flowlang: telephone call flows for Telnyx, written as text."""

__version__ = "0.1.0"
