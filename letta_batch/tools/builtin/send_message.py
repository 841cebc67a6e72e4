"""``send_message``: the message itself is the tool call's argument; executing it only
acknowledges (Letta's core executor returns a fixed text)."""

from __future__ import annotations

SEND_MESSAGE_RESPONSE = "Sent message successfully."


def send_message(message: str) -> str:
    """Letta's ``send_message``: returns ``"Sent message successfully."``."""
    return SEND_MESSAGE_RESPONSE
