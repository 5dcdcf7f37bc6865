"""What the engine is told: the call as it arrives, and what happened to each step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Call:
    """An incoming call. `caller` is None when the number is hidden (no callback possible)."""

    called: str
    caller: str | None
    internal: bool
    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Call.at must be an aware datetime (the engine never guesses a zone)")


def caller_number(number: str, presentation: str) -> str | None:
    """The number a callback can be made to, or None for a hidden caller (R4: no callback
    offer, voicemail instead): presentation prohibited or unavailable, or no usable number."""
    pres = presentation.lower()
    if pres.startswith("prohib") or pres == "unavailable":  # Asterisk's prohib_* presentations
        return None
    cleaned = number.strip()
    if not cleaned or cleaned.lower() in ("anonymous", "unknown", "restricted"):
        return None
    return cleaned


class EventKind(StrEnum):
    """What Asterisk reports about the step it carried out."""

    RINGING = "ringing"  # a device started ringing: information, the step goes on
    ANSWERED = "answered"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    NO_ANSWER = "no_answer"  # the ring limit ran out, or a prompt waited for a digit in vain
    HANGUP = "hangup"  # the caller hung up
    DIGIT = "digit"
    COMPLETED = "completed"  # a message was played to its end, a voicemail was left
    FAILED = "failed"  # the step could not be carried out (missing prompt, mailbox, device)


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: datetime
    digit: str | None = None
    # Who answered, where the step does not say: the operator who took a call from the
    # switchboard's queue ("operator:<id>", #13). Only with ANSWERED.
    by: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Event.at must be an aware datetime")
        if (self.kind is EventKind.DIGIT) != (self.digit is not None):
            raise ValueError("a DIGIT event carries exactly one digit; other events carry none")
        if self.by is not None and self.kind is not EventKind.ANSWERED:
            raise ValueError("only an ANSWERED event names who answered")
        if self.digit is not None and (len(self.digit) != 1 or self.digit not in "0123456789*#"):
            raise ValueError(f"'{self.digit}' is not a DTMF digit")
