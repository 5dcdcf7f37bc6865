"""`routing explain --call CALL_ID` (#16): why a call went where it went. The plan is made again
from what the call's plan was made from (its decision inputs, kept with call.start) under the
very config it was planned under (kept in the store by its hash), and shown step by step with
its rule ids beside what Asterisk then reported, as stored: rang 28.4 s, busy, answered by the
cover after 2 signals. For an auditor, and for the switchboard's "why did my caller end up in
voicemail". No caller number is shown or kept (R12)."""

from __future__ import annotations

import sys
from datetime import datetime

from routing.calllog.events import CallStart, CallStep
from routing.calllog.readable import describe
from routing.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from routing.cli.explain import explain
from routing.config import Config, ConfigError, load_config_text
from routing.policy.decision_inputs import DecisionInputs, Replayed, replan
from routing.policy.directory import Directory
from routing.policy.steps import PlannedStep
from routing.store import Store, StoreError, open_store
from routing.store.base import StoredEvent


class CallNotExplained(Exception):
    """The call cannot be explained from the store; the message says why, and exit says how."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def explain_call(config: Config, store: Store, call_id: str) -> str:
    events = store.call_events(call_id)
    if not events:
        raise CallNotExplained(
            f"no call {call_id} in the store (calls older than store.retention_days are gone)", EXIT_USAGE
        )
    start = next((e for e in events if isinstance(e.event, CallStart)), None)
    if start is None or not isinstance(start.event, CallStart):
        raise CallNotExplained(f"call {call_id} has no call.start in the store: its plan cannot be made again")
    begun = start.event
    if begun.inputs is None:
        raise CallNotExplained(f"call {call_id} was routed by a release that did not keep what its plan was made from")
    planned_under = _planned_config(config, store, begun.config or "")
    try:
        inputs = DecisionInputs.from_fields(begun.called, begun.config or "", begun.inputs)
    except (KeyError, TypeError, ValueError) as exc:
        raise CallNotExplained(f"call {call_id}: its stored inputs cannot be read ({exc!r})") from None
    replayed = replan(Directory.from_config(planned_under), inputs)
    lines = [f"Call {call_id}, planned under config {begun.config}" + _which_file(config, begun.config or ""), ""]
    lines += explain(replayed.plan, caller_text=_caller_text(inputs), zone_name=planned_under.timezone).splitlines()
    lines += ["", "What Asterisk reported (seconds since the call began):"]
    began_at = datetime.fromisoformat(start.at)
    for stored in events:
        if stored is start:
            continue
        offset = (datetime.fromisoformat(stored.at) - began_at).total_seconds()
        lines.append(f"  {offset:7.1f} s  {describe({'event': stored.event.NAME, **stored.event.fields()})}")
    lines += ["", _agreement(replayed, events)]
    return "\n".join(lines)


def _planned_config(config: Config, store: Store, config_hash: str) -> Config:
    """The config the call was planned under: as stored by its hash, or the file given, if it is
    that very version."""
    if config_hash and config.source_hash == config_hash:
        return config
    text = store.config_version(config_hash) if config_hash else None
    if text is None:
        raise CallNotExplained(
            f"the config the call was planned under ({config_hash or 'unknown'}) is not in the store, and "
            f"--config is another version ({config.source_hash}): give the file as it was then"
        )
    try:
        return load_config_text(text, f"<stored config {config_hash}>")
    except ConfigError as exc:  # a config from a release whose schema differs from this one's
        raise CallNotExplained(f"the stored config {config_hash} is not valid for this release: {exc}") from None


def _which_file(config: Config, config_hash: str) -> str:
    if config.source_hash == config_hash:
        return " (the file given)"
    return f" (kept in the store; the file given is {config.source_hash})"


def _caller_text(inputs: DecisionInputs) -> str:
    return "a hidden number" if inputs.hidden else "a number (not kept, R12)"


def _step_label(step: PlannedStep) -> tuple[str, str]:
    return (step.kind.value, step.target)


def _agreement(replayed: Replayed, events: list[StoredEvent]) -> str:
    """Whether the steps the service logged are this plan's, in its order (the plan made again
    must be the plan the call had: the planner is pure, its inputs and config the same)."""
    planned = [_step_label(s) for s in replayed.plan.steps]
    logged = [(e.event.step, e.event.target) for e in events if isinstance(e.event, CallStep)]
    position = 0
    for step in logged:
        try:
            position = planned.index(step, position) + 1
        except ValueError:
            return f"The logged steps do NOT follow this plan: {step[0]} {step[1]} is not in it after step {position}."
    return f"The {len(logged)} logged steps follow this plan, in its order."


def cmd_explain_call(config: Config, call_id: str) -> int:
    try:
        store = open_store(config.store.url)
    except StoreError as exc:
        print(f"routing explain: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        print(explain_call(config, store, call_id))
    except CallNotExplained as exc:
        print(f"routing explain: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        store.close()
    return EXIT_OK
