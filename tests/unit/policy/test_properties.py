"""Property tests over generated configs and event sequences (R1, R2, R3).

- Every config the generator builds passes `routing check` (it is valid by construction).
- No ringing step lasts longer than the ring limit (R1).
- Whatever Asterisk reports, a flow ends with an R2 answer (R2/R3), unless the caller hangs
  up first — given only that the switchboard's last-resort mailbox works (when it does not,
  the dialplan's own fail-safe answers: that guarantee is tested against Asterisk).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.config.load import load_config_text
from routing.policy.call import Call, Event, EventKind
from routing.policy.directory import Directory
from routing.policy.flow import Flow
from routing.policy.planner import plan_call
from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState
from routing.policy.steps import CallbackOffer, Finish, Message, Outcome, Ring, Voicemail

LINKS = ["cover", "switchboard", "voicemail", "callback"]
ZONES = ["Europe/Stockholm", "Europe/Helsinki", "UTC"]


@st.composite
def chains(draw: st.DrawFn) -> list[str]:
    links = draw(st.lists(st.sampled_from(LINKS), unique=True, min_size=1, max_size=4))
    if not {"voicemail", "callback"} & set(links):
        links.append(draw(st.sampled_from(["voicemail", "callback"])))
    return links


@st.composite
def hours(draw: st.DrawFn) -> dict[str, str]:
    start = draw(st.integers(0, 20)) * 60 + draw(st.sampled_from([0, 30]))
    end = draw(st.integers(start // 60 + 1, 24)) * 60
    days = draw(st.sampled_from(["mon-fri", "mon-sun", "mon-thu", "tue-sat"]))
    return {days: f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"}


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    n_units = draw(st.integers(1, 3))
    n_people = draw(st.integers(n_units, 7))
    people_units = [i % n_units for i in range(n_people)]
    people_ext = [f"{1000 + i}" for i in range(n_people)]
    unit_numbers = [f"{2000 + i}" for i in range(n_units)]
    phones = [f"{3000 + i}" for i in range(n_units)]
    targets = people_ext + unit_numbers + phones + ["9000"]
    people = []
    for i in range(n_people):
        person: dict[str, Any] = {
            "id": f"p{i}",
            "name": f"Person {i}",
            "unit": f"u{people_units[i]}",
            "extension": people_ext[i],
            "device": f"PJSIP/{people_ext[i]}",
            "voicemail": f"{people_ext[i]}@default",
        }
        cover = draw(st.sampled_from([None, *[t for t in targets if t != people_ext[i]]]))
        if cover is not None:
            person["cover"] = cover
        if draw(st.booleans()):
            person["mobile"] = f"07{draw(st.integers(10_000_000, 99_999_999))}"
            if draw(st.booleans()):
                person["forward_to_mobile"] = {"approved_by": "Chef", "approved_on": "2026-01-15"}
        if draw(st.booleans()):
            person["fallback"] = draw(chains())
        people.append(person)
    units = []
    for u in range(n_units):
        members = [f"p{i}" for i in range(n_people) if people_units[i] == u]
        unit: dict[str, Any] = {
            "id": f"u{u}",
            "name": f"Enhet {u}",
            "number": unit_numbers[u],
            "telephone_officer": members[0],
            "duty_phone": draw(st.sampled_from([phones[u], people_ext[people_units.index(u)]])),
            "voicemail": f"{unit_numbers[u]}@default",
        }
        if draw(st.booleans()):
            unit["members"] = draw(st.lists(st.sampled_from(members), min_size=1, unique=True))
        if draw(st.booleans()):
            unit["phone_hours"] = draw(hours())
        if draw(st.booleans()):
            unit["fallback"] = draw(chains())
        units.append(unit)
    return {
        "version": 1,
        "timezone": draw(st.sampled_from(ZONES)),
        "calendar": {"holidays": draw(st.sampled_from(["SE", "none"]))},
        "working_hours": draw(hours()),
        "ring": {"max_rings": draw(st.integers(1, 5)), "ring_period_s": draw(st.sampled_from([1, 4, 6]))},
        "max_redirects": draw(st.integers(1, 4)),
        "asterisk": {"ami": {"secret_env": "S"}, "ari": {"password_env": "P"}},
        "switchboard": {"extension": "9000", "device": "PJSIP/9000", "voicemail": "9000@default"},
        "units": units,
        "people": people,
        "phones": [
            {"extension": phones[u], "name": f"Jour {u}", "device": f"PJSIP/{phones[u]}", "unit": f"u{u}"}
            for u in range(n_units)
        ],
        "fallback": draw(chains()),
    }


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31))


@st.composite
def calls(draw: st.DrawFn, data: dict[str, Any]) -> tuple[Call, RoutingState]:
    numbers = [p["extension"] for p in data["people"]] + [u["number"] for u in data["units"]]
    numbers += [p["extension"] for p in data["phones"]] + ["9000", "4444"]
    zone = ZoneInfo(data["timezone"])
    when = draw(moments).replace(tzinfo=zone)
    caller = draw(st.sampled_from([None, "0701234567", "+4681234567", "1000"]))
    referrals = {}
    for p in data["people"]:
        if draw(st.integers(0, 3)) == 0:
            until = draw(
                st.sampled_from([None, when + timedelta(hours=1), when - timedelta(hours=1), date(2028, 1, 1)])
            )
            referrals[p["id"]] = Referral(p["id"], draw(st.sampled_from(list(Reason))), until)
    call = Call(draw(st.sampled_from(numbers)), caller, draw(st.booleans()), when)
    return call, RoutingState(referrals)


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_r1_r2_r3_every_flow_ends_answered_or_abandoned(data: st.DataObject) -> None:
    raw = data.draw(configs())
    config = load_config_text(_yaml(raw), "generated.yaml")  # valid by construction (check passes)
    directory = Directory.from_config(config)
    call, state = data.draw(calls(raw))
    plan = plan_call(directory, state, call)
    limit = config.ring.max_rings * config.ring.ring_period_s

    flow = Flow(plan)
    step = flow.start()
    now = call.at
    hung_up = False
    for _ in range(len(plan.steps) + 2):
        if isinstance(step, Finish):
            break
        now += timedelta(seconds=data.draw(st.floats(0.01, 40)))
        event: Event
        if data.draw(st.integers(0, 12)) == 0:
            hung_up = True
            event = Event(EventKind.HANGUP, now)
        elif isinstance(step, Ring):
            assert step.timeout_s <= limit  # R1
            assert step.devices
            kind = data.draw(
                st.sampled_from(
                    [EventKind.ANSWERED, EventKind.BUSY, EventKind.UNAVAILABLE, EventKind.NO_ANSWER, EventKind.FAILED]
                )
            )
            event = Event(kind, now)
        elif isinstance(step, Voicemail):
            last_resort = step.mailbox == config.switchboard.voicemail
            kind = (
                EventKind.COMPLETED
                if last_resort
                else data.draw(st.sampled_from([EventKind.COMPLETED, EventKind.FAILED]))
            )
            event = Event(kind, now)
        elif isinstance(step, CallbackOffer):
            digit = data.draw(st.sampled_from([None, "1", "2", "#"]))
            event = Event(EventKind.NO_ANSWER, now) if digit is None else Event(EventKind.DIGIT, now, digit)
        else:
            assert isinstance(step, Message)
            event = Event(data.draw(st.sampled_from([EventKind.COMPLETED, EventKind.FAILED])), now)
        step = flow.feed(event)
    assert isinstance(step, Finish), "the flow must end within its plan"
    if hung_up:
        assert step.outcome.is_r2_answer or step.outcome is Outcome.ABANDONED
    else:
        assert step.outcome.is_r2_answer, (step, plan.steps)
    if step.outcome.is_r2_answer:
        assert step.wait_s is not None and step.wait_s >= 0
    else:
        assert step.wait_s is None


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_r3_every_plan_ends_in_the_last_resort_mailbox(data: st.DataObject) -> None:
    raw = data.draw(configs())
    directory = Directory.from_config(load_config_text(_yaml(raw), "generated.yaml"))
    call, state = data.draw(calls(raw))
    plan = plan_call(directory, state, call)
    last = plan.steps[-1]
    assert isinstance(last, Voicemail) and last.mailbox == "9000@default"
    ringing = [s for s in plan.steps if isinstance(s, Ring)]
    devices = [d for s in ringing for d in s.devices]
    assert len(devices) == len(set(devices)), "a device rings at most once in a call"
