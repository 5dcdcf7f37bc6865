"""The steps of a call's flow: what the engine asks Asterisk to do next."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StepKind(StrEnum):
    """The vocabulary of `call.step` events: which role the step plays in the policy."""

    PERSON = "person"
    UNIT = "unit"
    COVER = "cover"
    DUTY_PHONE = "duty_phone"
    SWITCHBOARD = "switchboard"
    PHONE = "phone"
    REFERRAL = "referral"
    ANNOUNCEMENT = "announcement"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"


class Outcome(StrEnum):
    """How a call ended (`call.end` outcome). The first five are R2 answers; the others are not:
    ABANDONED, the caller hung up first; FAILED, every step failed or Asterisk lost the call (R3);
    FAILSAFE, the service let go of the call and Asterisk's fail-safe finished it, so what the
    caller got is not known (only what really happened counts as an answer)."""

    ANSWERED = "answered"
    COVER = "cover"
    REFERRAL = "referral"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    ABANDONED = "abandoned"
    FAILED = "failed"
    FAILSAFE = "failsafe"

    @property
    def is_r2_answer(self) -> bool:
        return self not in (Outcome.ABANDONED, Outcome.FAILED, Outcome.FAILSAFE)


@dataclass(frozen=True)
class Ring:
    """Ring one or more devices together for at most `timeout_s` (R1)."""

    kind: StepKind
    target: str
    devices: tuple[str, ...]
    timeout_s: float
    rules: tuple[str, ...]
    why: str
    mobile: str | None = None  # R14: the device (also in `devices`) that is an approved mobile

    @property
    def mobile_leg(self) -> bool:
        return self.mobile is not None


@dataclass(frozen=True)
class Message:
    """Play a message: a recorded prompt where the admin has one, else `text` spoken in Swedish."""

    kind: StepKind
    target: str
    prompt: str | None
    text: str
    rules: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Voicemail:
    kind: StepKind  # always VOICEMAIL; kept so every step answers `.kind`
    target: str
    mailbox: str
    rules: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class CallbackOffer:
    """Offer a callback: the caller presses `digit` within `timeout_s` to ask for one (R4)."""

    kind: StepKind
    target: str
    digit: str
    timeout_s: float
    text: str
    rules: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Queue:
    """Wait in the switchboard's queue for an operator (#13), hearing ringing, for at most
    `timeout_s` (switchboard.queue_timeout_s, by default the ring limit: R1); then the plan goes
    on (the switchboard's voicemail or callback: R2/R3). Should the queue not be served (the
    service's ARI link is down, its lease on the caller ran out), `fallback` rings the
    switchboard's own phones instead, within the ring limit (R3)."""

    kind: StepKind  # always SWITCHBOARD
    target: str  # the switchboard's extension
    timeout_s: float
    fallback: Ring
    rules: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Finish:
    """The flow is over; the adapter hangs up or leaves the bridged call alone."""

    outcome: Outcome
    by: str | None
    wait_s: float | None  # seconds until the caller got an R2 answer; None without one


PlannedStep = Ring | Queue | Message | Voicemail | CallbackOffer
Step = PlannedStep | Finish
