"""Translation between the engine's steps and events and the dialplan's variables and statuses."""

from __future__ import annotations

from datetime import datetime, timedelta

from routing.policy.call import Event, EventKind
from routing.policy.steps import CallbackOffer, Finish, Message, Queue, Ring, Step, StepKind, Voicemail
from routing.service import dialplan_variables as v

# Dial's DIALSTATUS: https://docs.asterisk.org/ … Dialplan_Applications/Dial
_DIALSTATUS = {
    "ANSWER": EventKind.ANSWERED,
    "BUSY": EventKind.BUSY,
    "NOANSWER": EventKind.NO_ANSWER,
    "CHANUNAVAIL": EventKind.UNAVAILABLE,
    "CONGESTION": EventKind.UNAVAILABLE,
    "CANCEL": EventKind.HANGUP,  # the caller hung up while it rang
    "DONTCALL": EventKind.NO_ANSWER,
    "TORTURE": EventKind.NO_ANSWER,
}


def dial_status(status: str) -> EventKind:
    """Dial's DIALSTATUS as an engine event kind; anything else is FAILED."""
    return _DIALSTATUS.get(status.upper(), EventKind.FAILED)


def seconds(value: float) -> str:
    """Seconds as the dialplan takes them: '30', '1.5'."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


MOBILE_LEG = "Local/mobile@routing-mobile"  # the dialplan's key-press guard around the mobile
# Asterisk reads an AGI command line of at most 2048 bytes (AGI_BUF_LEN): a longer SET VARIABLE
# is cut, and a unit of 250 phones would ring 170 of them. A longer dial string is split into
# groups, each rung by a Local channel of routing-ring-group from its own variable.
MAX_DIAL = 1800
RING_GROUP = "Local/g{index}@routing-ring-group"


def dial_groups(devices: list[str], limit: int) -> list[str]:
    """The devices &-joined in as few groups as fit `limit` each, in order, none left out."""
    groups: list[str] = []
    for device in devices:
        if groups and len(groups[-1]) + 1 + len(device) <= limit:
            groups[-1] += "&" + device
        else:
            groups.append(device)
    return groups


def ring_variables(step: Ring, progress_timeout_s: float, guard_prompt: str = "") -> dict[str, str]:
    """R14: an approved mobile is rung through routing-mobile, which asks the answerer to press
    a key before the caller is connected (an operator's voicemail cannot take the call)."""
    devices = [MOBILE_LEG if device == step.mobile else device for device in step.devices]
    extra: dict[str, str] = {}
    if step.mobile is not None:
        # Inherited (__) by the Local channel and the mobile's own channel.
        extra = {v.MOBILE_DIAL: step.mobile, v.GUARD_PROMPT: guard_prompt}
    dial = "&".join(devices)
    if len(dial) > MAX_DIAL:  # a big unit: every phone rings, in groups (see MAX_DIAL)
        groups = dial_groups(devices, MAX_DIAL)
        extra |= {f"{v.RING_GROUP}{index}": group for index, group in enumerate(groups, start=1)}
        dial = "&".join(RING_GROUP.format(index=index) for index in range(1, len(groups) + 1))
    return {
        **extra,
        v.STEP: step.kind.value,
        v.TARGET: step.target,
        v.DIAL: dial,
        v.TIMEOUT: seconds(step.timeout_s),
        v.PROGRESS_TIMEOUT: seconds(min(progress_timeout_s, step.timeout_s)),
        v.ACTION: v.RING,  # last: the dialplan acts on ACTION only once the rest is set
    }


def play_variables(step: Message, prompt_path: str) -> dict[str, str]:
    """R11: after a referral message the person is known to be away; should the service die
    now, the dialplan's fail-safe goes straight to the mailbox instead of ringing them."""
    away = {v.RANG: "1"} if step.kind is StepKind.REFERRAL else {}
    return {**away, v.STEP: step.kind.value, v.TARGET: step.target, v.PROMPT: prompt_path, v.ACTION: v.PLAY}


def offer_variables(step: CallbackOffer, prompt_path: str) -> dict[str, str]:
    return {
        v.STEP: step.kind.value,
        v.TARGET: step.target,
        v.PROMPT: prompt_path,
        v.TIMEOUT: seconds(step.timeout_s),
        v.ACTION: v.OFFER,
    }


def voicemail_variables(step: Voicemail) -> dict[str, str]:
    return {v.STEP: step.kind.value, v.TARGET: step.target, v.MAILBOX: step.mailbox, v.ACTION: v.VOICEMAIL}


def queue_variables(step: Queue, number: str, lease_s: float) -> dict[str, str]:
    """#13: the caller waits in the switchboard's queue (Stasis) under a lease of `lease_s`
    seconds. Should the lease run out with the service unreachable, the fail-safe rings the
    switchboard's phones (its AstDB entries; they have not rung yet: RANG 0), then its mailbox."""
    return {
        v.STEP: step.kind.value,
        v.TARGET: step.target,
        v.NUMBER: number,
        v.LEASE: seconds(lease_s),
        v.FS_NUMBER: step.target,
        v.RANG: "0",
        v.ACTION: v.QUEUE,
    }


def finish_variables(step: Finish) -> dict[str, str]:
    return {v.STEP: step.outcome.value, v.ACTION: v.FINISH}


FAILSAFE = {v.ACTION: v.FAILSAFE}


class DialplanResultError(ValueError):
    """The dialplan reported a result the current step cannot have. Log id: agi.bad_result."""

    log_id = "agi.bad_result"


def dial_result(detail: str, started: datetime, now: datetime) -> tuple[Event, float | None]:
    """DIALSTATUS/RING_AT/ANSWERED_AT[/DIALEDPEERNAME] -> the event, and seconds it rang if
    Asterisk said.

    RING_AT and ANSWERED_AT are Asterisk's own clock (epoch seconds with ms, set by the
    dialplan when the ring began and when a device answered): an answer is dated when it
    happened, not when the conversation ended, even if the answered report was lost."""
    status, ring_at_text, answered_at_text, _ = [*detail.split("/", 3), "", "", ""][:4]
    kind = dial_status(status)
    ring_at, answered_at = _epoch(ring_at_text), _epoch(answered_at_text)
    if kind is EventKind.ANSWERED and ring_at is not None and answered_at is not None:
        ring_s = max(0.0, answered_at - ring_at)
        return Event(kind, started + timedelta(seconds=ring_s)), ring_s
    return Event(kind, now), None


def answering_channel(detail: str) -> str:
    """The channel that answered (Dial's DIALEDPEERNAME, the dial result's fourth field; a
    channel name has slashes of its own), or ''."""
    parts = detail.split("/", 3)
    return parts[3] if len(parts) == 4 else ""


def _epoch(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def event_for(step: Step, event: str, detail: str, started: datetime, now: datetime) -> tuple[Event, float | None]:
    """The engine event for what the dialplan reports after carrying out `step`."""
    if isinstance(step, Ring) and event == "dial":
        return dial_result(detail, started, now)
    if isinstance(step, Message) and event == "play":
        kind = EventKind.COMPLETED if detail.upper() == "SUCCESS" else EventKind.FAILED
        return Event(kind, now), None
    if isinstance(step, Voicemail) and event == "voicemail":
        # USEREXIT: the caller left the mailbox with # or *; they reached it all the same.
        kind = EventKind.COMPLETED if detail.upper() in ("SUCCESS", "USEREXIT") else EventKind.FAILED
        return Event(kind, now), None
    if isinstance(step, CallbackOffer | Message) and event == "read":
        status, _, digit = detail.partition("/")
        status = status.upper()
        if status == "HANGUP":
            return Event(EventKind.HANGUP, now), None
        if status == "OK" and len(digit) == 1 and digit in "0123456789*#":
            return Event(EventKind.DIGIT, now, digit), None
        if status in ("OK", "TIMEOUT", "SKIPPED"):
            return Event(EventKind.NO_ANSWER, now), None
        return Event(EventKind.FAILED, now), None
    if isinstance(step, Queue) and event == "queue":
        status = detail.upper()
        if status == "TIMEOUT":
            return Event(EventKind.NO_ANSWER, now), None
        if status == "HANGUP":
            return Event(EventKind.HANGUP, now), None
        return Event(EventKind.FAILED, now), None  # FAILED: no app, or the lease ran out
    raise DialplanResultError(f"a {type(step).__name__} step cannot end with '{event}'")
