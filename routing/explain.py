"""`routing explain`: the flow a call would get, step by step, in an admin's words."""

from __future__ import annotations

from routing.masking import mask_number
from routing.policy.hours import OpenState
from routing.policy.planner import Plan
from routing.policy.steps import CallbackOffer, Message, PlannedStep, Ring, StepKind, Voicemail

_STATE_TEXT = {
    OpenState.OPEN: "open: inside the hours that apply",
    OpenState.PHONE_HOURS_CLOSED: "inside working hours, outside the unit's telephone hours",
    OpenState.CLOSED: "outside working hours",
}


def describe_step(step: PlannedStep) -> str:
    kind = step.kind.value.replace("_", " ")
    if isinstance(step, Ring):
        devices = " + ".join(step.devices)
        mobile = " (desk and approved mobile together; the mobile must press 1)" if step.mobile_leg else ""
        return f"ring {kind} {step.target}: {devices}{mobile}, at most {step.timeout_s:g} s"
    if isinstance(step, Message):
        source = f"prompt '{step.prompt}', else spoken" if step.prompt else "spoken"
        return f'{kind} message ({source}): "{step.text}"'
    if isinstance(step, Voicemail):
        return f"voicemail {step.mailbox} ({step.why})"
    if isinstance(step, CallbackOffer):
        return f"callback offer: press {step.digit} within {step.timeout_s:g} s, else go on"
    raise TypeError(step)  # pragma: no cover - the union is exhaustive


def explain(plan: Plan, *, mask: bool = True, zone_name: str = "") -> str:
    call = plan.call
    caller = call.caller if call.caller is None or not mask else mask_number(call.caller)
    origin = "internal" if call.internal else "external"
    when = call.at.isoformat(timespec="minutes")
    lines = [
        f"Call to {call.called}: {plan.target_kind} {plan.target}",
        f"From {caller or 'a hidden number'} ({origin}) at {when} {zone_name}".rstrip(),
        f"Hours: {_STATE_TEXT[plan.open_state]}",
        "",
    ]
    ringing = 0.0
    first_answer: int | None = None
    for number, step in enumerate(plan.steps, start=1):
        lines.append(f"{number:>2}. {describe_step(step)}  [{' '.join(step.rules)}]")
        lines.append(f"    {_on_result(step, number, len(plan.steps))}")
        if isinstance(step, Ring) and first_answer is None:
            ringing += step.timeout_s
        if first_answer is None and (
            isinstance(step, Voicemail | CallbackOffer)
            or (isinstance(step, Message) and step.kind is StepKind.REFERRAL)
        ):
            first_answer = number
    if plan.notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in plan.notes]
    lines += [
        "",
        f"Longest ringing before the caller is answered: {ringing:g} s"
        + (f" (then step {first_answer} answers)" if first_answer else ""),
    ]
    return "\n".join(lines)


def _on_result(step: PlannedStep, number: int, total: int) -> str:
    after = f"step {number + 1}" if number < total else "end (failed: Asterisk's own fail-safe takes over)"
    if isinstance(step, Ring):
        outcome = "cover" if step.kind is StepKind.COVER else "answered"
        return f"answered: connected ({outcome}); no answer, busy or unavailable: {after}"
    if isinstance(step, Message):
        answered = " (counts as answered, R2)" if step.kind is StepKind.REFERRAL else ""
        return f"after the message{answered}: {after}"
    if isinstance(step, Voicemail):
        return f"message left: done (voicemail); mailbox fails: {after}"
    return f"press {step.digit}: callback booked (callback); no key: {after}"
