"""Running flows on real calls: the webhook app, runner, sender, store and Telnyx client."""
