"""Telnyx's HTTP vocabulary: webhook signatures, webhook envelopes and the Call Control client."""
