"""The example flows of LANGUAGE.md (sections 1, 4 and 5), as written there, for tests."""

SECTION_1 = """
# Acme main line
voice "Telnyx.KokoroTTS.af"
language "en-US"

main:
    answer
    say "Thanks for calling Acme."
    goto menu

menu:
    gather tries 3 timeout 8s:
        say "For sales press 1. For support press 2. To hear our hours press 3."
        reprompt "Sorry, I didn't catch that."
        on digits "1": transfer "+13125550001"
        on digits "2": goto support
        on digits "3":
            say "We are open nine to five, Monday to Friday."
            goto menu
        on invalid: say "That is not an option."
        on timeout: say "We did not hear anything."
    say "Goodbye."
    hangup

support:
    gather digits 6 into account terminator "#":
        say "Please enter your six digit account number, then press pound."
        on digits:
            say "Thank you. Connecting you to support for account {account}."
            transfer "+13125550002"
        on timeout: hangup
"""


SECTION_4 = """
ai_gather into booking voice "V" language "en-US" timeout 20s:
    greeting "Hi! I can book a table for you."
    field name string "The caller's full name"
    field guests integer "How many people are coming"
    field notes string "Anything else we should know" optional
    on valid: say "Thanks {booking.name}."
    on invalid: transfer "+13125550100"
    on key "0": hangup
"""


SECTION_5 = """
assistant id "assistant-123" voice "V":
    instructions "You are the Acme receptionist."
    greeting "Hi, this is Ava from Acme."
    message system "The caller's account is {account}."
    message assistant "I will help."
    on key "0":
        say "Connecting you to a person."
        transfer "+13125550003"
"""
