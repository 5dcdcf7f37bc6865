"""#16: what a call's plan was made from, kept and read back, makes the same plan again: for
every generated config and call (R1–R4, R6–R11 all take part in the plan), with referrals
and phone states in the way or not. No caller number is kept (R12)."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.config import load_config_text
from routing.policy.call import Call
from routing.policy.decision_inputs import DecisionInputs, ObservedState, replan
from routing.policy.directory import Directory
from routing.policy.planner import plan_call
from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState
from tests.unit.policy import builders
from tests.unit.policy.test_properties import _yaml, calls, configs


def _strings(value: object) -> set[str]:
    """Every string a stored value holds, keys included."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {k for k in value} | {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return set()


def _kept(inputs: DecisionInputs) -> DecisionInputs:
    """As stored with call.start and read back (through JSON, like the store)."""
    return DecisionInputs.from_fields(inputs.called, inputs.config, json.loads(json.dumps(inputs.to_fields())))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_r12_the_kept_inputs_make_the_same_plan_again_and_hold_no_caller_number(data: st.DataObject) -> None:
    raw = data.draw(configs())
    directory = Directory.from_config(load_config_text(_yaml(raw), "generated.yaml"))
    call, state = data.draw(calls(raw))
    devices = sorted(directory.devices())
    unavailable = frozenset(data.draw(st.lists(st.sampled_from(devices), max_size=3)))
    busy = frozenset(data.draw(st.lists(st.sampled_from(devices), max_size=3)))
    observed = ObservedState.watching(RoutingState(state.referrals, unavailable, busy))
    plan = plan_call(directory, observed, call)
    inputs = DecisionInputs.of(call, observed, "abc")
    assert call.caller is None or call.caller not in _strings(inputs.to_fields())  # R12

    again = replan(directory, _kept(inputs))
    assert again.plan.steps == plan.steps and again.plan.notes == plan.notes
    assert (again.plan.target_kind, again.plan.target, again.plan.open_state) == (
        plan.target_kind,
        plan.target,
        plan.open_state,
    )
    # It asks about the same people and phones: the inputs need not name those without anything in the way.
    assert again.asked_people == frozenset(observed.asked_people)
    assert again.asked_devices == frozenset(observed.asked_devices)
    assert _kept(inputs) == inputs


def test_r11_a_plan_under_another_config_names_what_the_original_did_not_observe() -> None:
    """Erik (5002) is Anna's cover. Under a config where Anna's cover is Lars instead, the
    plan for a call to Anna asks about Lars, whom the original plan never asked about: his
    referral then was not observed, and the replayed plan says so."""
    data = builders.config()
    old = builders.directory(data)
    at = builders.at("2026-12-01 10:15")
    call = Call("5001", builders.EXTERNAL, False, at)
    observed = ObservedState.watching(RoutingState({"soc2": Referral("soc2", Reason.LUNCH, at + timedelta(hours=1))}))
    plan_call(old, observed, call)
    inputs = _kept(DecisionInputs.of(call, observed, "old"))
    assert set(inputs.referrals) == {"soc2"}  # Anna was asked about too, and had none: not written

    changed = builders.config()
    builders.person(changed, "soc1")["cover"] = builders.person(changed, "kc1")["extension"]
    original = replan(old, inputs)
    again = replan(builders.directory(changed), inputs)
    assert "kc1" in again.beyond(original) and "soc2" not in again.beyond(original)
    assert original.beyond(original) == frozenset()
