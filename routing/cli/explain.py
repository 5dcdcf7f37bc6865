"""`routing explain`: the flow a call would get, step by step, in an admin's words."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from routing.calllog.masking import mask_number
from routing.cli.calendar import calendars_for
from routing.cli.common import EXIT_OK, EXIT_USAGE, load_or_report
from routing.policy.calendar_referral import calendar_referrals, merged_referrals
from routing.policy.call import Call
from routing.policy.directory import Directory
from routing.policy.hours import OpenState
from routing.policy.planner import Plan, plan_call
from routing.policy.referral import Referral, parse_reason, parse_until
from routing.policy.state import RoutingState
from routing.policy.steps import CallbackOffer, Message, PlannedStep, Queue, Ring, StepKind, Voicemail

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
    if isinstance(step, Queue):
        fallback = " + ".join(step.fallback.devices)
        return (
            f"wait in the switchboard's queue for an operator, ringing, at most {step.timeout_s:g} s"
            f" (queue not served: ring {fallback} instead, at most {step.fallback.timeout_s:g} s)"
        )
    if isinstance(step, Message):
        source = f"prompt '{step.prompt}', else spoken" if step.prompt else "spoken"
        return f'{kind} message ({source}): "{step.text}"'
    if isinstance(step, Voicemail):
        return f"voicemail {step.mailbox} ({step.why})"
    if isinstance(step, CallbackOffer):
        return f"callback offer: press {step.digit} within {step.timeout_s:g} s, else go on"
    raise TypeError(step)  # pragma: no cover - the union is exhaustive


def explain(plan: Plan, *, mask: bool = True, zone_name: str = "", caller_text: str | None = None) -> str:
    """`caller_text`: how to name the caller instead of their (masked) number."""
    call = plan.call
    caller = call.caller if call.caller is None or not mask else mask_number(call.caller)
    caller = caller_text or caller
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
        if isinstance(step, Ring | Queue) and first_answer is None:
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
    if isinstance(step, Queue):
        return f"an operator answers: connected (answered); nobody within the timeout: {after}"
    if isinstance(step, Voicemail):
        return f"message left: done (voicemail); mailbox fails: {after}"
    return f"press {step.digit}: callback booked (callback); no key: {after}"


def _parse_at(text: str | None, zone: ZoneInfo) -> datetime:
    if text is None:
        return datetime.now(zone)
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def _parse_referral(text: str, at: datetime) -> Referral:
    """PERSON=REASON or PERSON=REASON@HH:MM or PERSON=REASON@YYYY-MM-DD."""
    person, sep, rest = text.partition("=")
    if not sep or not person:
        raise ValueError(f"'{text}': write PERSON=REASON[@HH:MM|@YYYY-MM-DD]")
    reason_text, _, until_text = rest.partition("@")
    return Referral(person, parse_reason(reason_text), parse_until(until_text, at) if until_text else None)


def cmd_explain(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    if (args.call is None) == (args.to is None):
        print(
            "routing explain: give --to NUMBER (a call that may come) or --call CALL_ID (one that came)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.call is not None:
        from routing.cli.explain_call import cmd_explain_call  # it shows plans with this module's explain()

        return cmd_explain_call(config, args.call)
    zone = ZoneInfo(config.timezone)
    directory = Directory.from_config(config)
    try:
        at = _parse_at(args.at, zone)
        referrals = [_parse_referral(text, at.astimezone(zone)) for text in args.referral]
    except ValueError as exc:
        print(f"routing explain: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unknown = [r.person for r in referrals if r.person not in directory.people]
    if unknown:
        print(f"routing explain: no person has the id '{unknown[0]}'", file=sys.stderr)
        return EXIT_USAGE
    # People's calendars (#15): under the --referral ones, as under those set by hand (R11).
    local = at.astimezone(zone)
    calendars, calendar_notes = calendars_for(config, local)
    manual = {r.person: r for r in referrals}
    state = RoutingState(merged_referrals(manual, calendar_referrals(calendars, local), local))
    caller = None if args.from_number in (None, "", "hidden") else args.from_number
    plan = plan_call(directory, state, Call(args.to, caller, args.internal, at))
    print(explain(plan, mask=config.logging.mask_numbers, zone_name=config.timezone))
    if calendar_notes:
        print("\nCalendars:\n" + "\n".join(f"  - {note}" for note in calendar_notes))
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    exp = commands.add_parser("explain", help="show the flow a call would get, step by step")
    exp.add_argument("--config", required=True, metavar="FILE")
    exp.add_argument("--to", metavar="NUMBER", help="the dialled number")
    exp.add_argument(
        "--call",
        metavar="CALL_ID",
        help="a call that came (its call_id): its plan made again, beside what Asterisk reported",
    )
    exp.add_argument("--from", dest="from_number", metavar="NUMBER", help="the caller's number (default: hidden)")
    exp.add_argument("--internal", action="store_true", help="the call comes from the municipality's own phones")
    exp.add_argument("--at", metavar="TIME", help="e.g. 2026-12-01T10:15 (default: now, in the config's zone)")
    exp.add_argument(
        "--referral",
        action="append",
        default=[],
        metavar="PERSON=REASON[@UNTIL]",
        help="pretend PERSON has a referral, e.g. soc1=meeting@13:00 or soc2=vacation@2026-12-07",
    )
    exp.set_defaults(func=cmd_explain)
