"""A small municipality for policy tests, built as a dict so each test changes what it needs."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from routing.config.schema import Config
from routing.policy.call import Call
from routing.policy.directory import Directory
from routing.policy.planner import Plan, plan_call
from routing.policy.referral import Referral
from routing.policy.state import RoutingState

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EXTERNAL = "0701234567"

BASE: dict[str, Any] = {
    "version": 1,
    "timezone": "Europe/Stockholm",
    "calendar": {"holidays": "SE", "closed_days": ["2026-12-28"]},
    "working_hours": {"mon-thu": "07:30-16:30", "fri": "07:30-15:00"},
    "ring": {"max_rings": 5, "ring_period_s": 6},
    "asterisk": {
        "ami": {"secret_env": "ROUTING_AMI_SECRET"},
        "ari": {"password_env": "ROUTING_ARI_PASSWORD"},
    },
    "switchboard": {"extension": "9000", "device": "PJSIP/9000", "voicemail": "9000@default"},
    "units": [
        {
            "id": "soc",
            "name": "Socialtjänsten",
            "number": "5000",
            "members": ["soc1", "soc2"],
            "telephone_officer": "soc1",
            "phone_hours": {"mon-fri": "09:00-11:00"},
            "duty_phone": "5099",
            "hours_announcement": "soc-telefontid",
            "voicemail": "5000@default",
        },
        {
            "id": "kc",
            "name": "Kontaktcenter",
            "number": "7000",
            "telephone_officer": "kc1",
            "duty_phone": "7001",
            "voicemail": "7000@default",
        },
    ],
    "people": [
        {
            "id": "soc1",
            "name": "Anna Lindqvist",
            "unit": "soc",
            "extension": "5001",
            "device": "PJSIP/5001",
            "mobile": "+46701234567",
            "cover": "5002",
            "voicemail": "5001@default",
        },
        {
            "id": "soc2",
            "name": "Erik Johansson",
            "unit": "soc",
            "extension": "5002",
            "device": "PJSIP/5002",
            "cover": "5000",
            "voicemail": "5002@default",
        },
        {
            "id": "kc1",
            "name": "Karin Holm",
            "unit": "kc",
            "extension": "7001",
            "device": "PJSIP/7001",
            "cover": "9000",
            "voicemail": "7001@default",
        },
    ],
    "phones": [{"extension": "5099", "name": "Socialjouren", "device": "PJSIP/5099", "unit": "soc"}],
}


def config(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE with top-level keys replaced."""
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def person(data: dict[str, Any], person_id: str) -> dict[str, Any]:
    return next(p for p in data["people"] if p["id"] == person_id)


def unit(data: dict[str, Any], unit_id: str) -> dict[str, Any]:
    return next(u for u in data["units"] if u["id"] == unit_id)


def directory(data: dict[str, Any] | None = None) -> Directory:
    return Directory.from_config(Config.model_validate(data if data is not None else BASE))


def at(text: str) -> datetime:
    """A Stockholm wall-clock time, e.g. at('2026-12-01 10:15') (a Tuesday)."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def plan(
    called: str,
    when: str = "2026-12-01 10:15",
    *,
    caller: str | None = EXTERNAL,
    internal: bool = False,
    referrals: tuple[Referral, ...] = (),
    data: dict[str, Any] | None = None,
) -> Plan:
    state = RoutingState({r.person: r for r in referrals})
    return plan_call(directory(data), state, Call(called, caller, internal, at(when)))


def shape(p: Plan) -> list[tuple[str, str]]:
    """The plan as (step kind, target) pairs: what most tests assert."""
    return [(s.kind.value, s.target) for s in p.steps]
