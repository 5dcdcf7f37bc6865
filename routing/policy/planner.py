"""Works out a call's whole flow from the dialled number, the hours and the referrals."""

from __future__ import annotations

from dataclasses import dataclass

from routing.config.schema import Person, Phone, Unit
from routing.policy import spoken_swedish
from routing.policy.call import Call
from routing.policy.directory import Directory
from routing.policy.fallback import Chain
from routing.policy.hours import OpenState, open_state
from routing.policy.mobile import approved_mobile_device
from routing.policy.state import RoutingState
from routing.policy.steps import Message, PlannedStep, Ring, StepKind


@dataclass(frozen=True)
class Plan:
    """Every step a call may take, in order; the flow walks it as events come in."""

    call: Call
    target_kind: str  # person | unit | phone | switchboard
    target: str
    open_state: OpenState
    steps: tuple[PlannedStep, ...]
    notes: tuple[str, ...]


def plan_call(directory: Directory, state: RoutingState, call: Call) -> Plan:
    local = directory.calendar.local(call.at)
    chain = Chain(directory, state, local, caller_hidden=call.caller is None)
    number = call.called
    if number in directory.by_extension:
        person = directory.by_extension[number]
        opened = _person(chain, person, call)
        return _plan(call, "person", person.id, opened, chain)
    if number in directory.by_number:
        unit = directory.by_number[number]
        opened = _unit(chain, unit, call)
        return _plan(call, "unit", unit.id, opened, chain)
    if number in directory.phones:
        phone = directory.phones[number]
        _phone(chain, phone)
        return _plan(call, "phone", number, OpenState.OPEN, chain)
    if number != directory.config.switchboard.extension:
        chain.notes.append(f"{number} is no known number: the switchboard answers (R3)")
    chain.ring_switchboard("the switchboard")
    chain.voicemail(directory.config.switchboard.voicemail, "switchboard", "voicemail of the switchboard", ("R3",))
    return _plan(call, "switchboard", directory.config.switchboard.extension, OpenState.OPEN, chain)


def _plan(call: Call, kind: str, target: str, opened: OpenState, chain: Chain) -> Plan:
    return Plan(call, kind, target, opened, tuple(chain.steps), tuple(chain.notes))


def _person(chain: Chain, person: Person, call: Call) -> OpenState:
    d = chain.directory
    unit = d.units[person.unit]
    # A person's own number follows working hours only: telephone hours are a unit's (R6, R7).
    opened = open_state(d.calendar, d.working_hours, None, call.at, internal=call.internal)
    if opened is OpenState.CLOSED:
        chain.steps.append(_closed_announcement(d, unit))
    referral = chain.state.referral(person.id, chain.at)
    if referral is not None:
        told: tuple[str, ...] = ("R2", "R11", "R15") if person.mobile else ("R2", "R11")
        chain.steps.append(
            Message(
                StepKind.REFERRAL,
                person.id,
                None,
                spoken_swedish.referral_message(person.name, referral, person.mobile, chain.at),
                told,
                f"{person.id} has a referral: {referral.reason}",
            )
        )
    elif opened is OpenState.OPEN:
        devices: tuple[str, ...] = (person.device,)
        rules: tuple[str, ...] = ("R1",)
        mobile = approved_mobile_device(person, d.config.outbound.trunk)
        if mobile is not None:
            devices += (mobile,)
            rules += ("R14",)
        chain.ring(Ring(StepKind.PERSON, person.id, devices, d.ring_timeout_s, rules, f"{person.name}", mobile))
    chain.follow(
        d.person_chain(person),
        target=person.id,
        cover=person.cover,
        cover_kind=StepKind.COVER,
        mailbox=person.voicemail,
        may_ring=opened is OpenState.OPEN,
    )
    return opened


def _unit(chain: Chain, unit: Unit, call: Call) -> OpenState:
    d = chain.directory
    opened = open_state(d.calendar, d.working_hours, d.phone_hours[unit.id], call.at, internal=call.internal)
    if opened is OpenState.OPEN:
        present = chain.present_members(unit.id)
        if present:
            devices = tuple(d.people[p].device for p in present)
            chain.ring(Ring(StepKind.UNIT, unit.id, devices, d.ring_timeout_s, ("R1",), f"members of {unit.id}"))
        else:
            chain.notes.append(f"every member of {unit.id} has a referral: none is rung (R11)")
    elif opened is OpenState.PHONE_HOURS_CLOSED:
        hours = d.phone_hours[unit.id]
        assert hours is not None  # PHONE_HOURS_CLOSED only arises where a unit sets phone hours
        text = spoken_swedish.telephone_hours_announcement(unit.name, hours)
        chain.steps.append(
            Message(StepKind.ANNOUNCEMENT, unit.id, unit.hours_announcement, text, ("R9",), "outside telephone hours")
        )
        # R8: the duty phone is open all working hours, whatever the unit's own chain says.
        chain.ring_number(unit.duty_phone, StepKind.DUTY_PHONE, f"duty phone of {unit.id}", 1, ("R8",))
    else:
        chain.steps.append(_closed_announcement(d, unit))
    chain.follow(
        d.unit_chain(unit),
        target=unit.id,
        cover=unit.duty_phone,
        cover_kind=StepKind.DUTY_PHONE,
        mailbox=unit.voicemail,
        may_ring=opened is not OpenState.CLOSED,
    )
    return opened


def _phone(chain: Chain, phone: Phone) -> None:
    d = chain.directory
    chain.ring(Ring(StepKind.PHONE, phone.extension, (phone.device,), d.ring_timeout_s, ("R1",), phone.name))
    if phone.unit is not None:
        unit = d.units[phone.unit]
        chain.voicemail(unit.voicemail, unit.id, f"voicemail of {unit.id}")
    chain.last_resort()


def _closed_announcement(d: Directory, unit: Unit) -> PlannedStep:
    text = spoken_swedish.closed_announcement(unit.name, d.working_hours)
    return Message(StepKind.ANNOUNCEMENT, unit.id, unit.hours_announcement, text, ("R6", "R9"), "outside working hours")
