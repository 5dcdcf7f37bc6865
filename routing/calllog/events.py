"""The call log's vocabulary: every event the service logs, defined once.

Call events are typed: each is a frozen dataclass whose class names the event (`NAME`) and
whose attributes are its fields. The router and the orphan sweep build them, `emit` logs them,
the recorder stores those marked `RECORDED`, and the store and the reports read them back with
`from_fields`, by attribute: a field renamed here fails mypy wherever it is written or read.

The service's other lines (its lifetime, the links to Asterisk, faults) have stable ids in
`LogId`; an exception that is logged carries its own id (`log_id`), defined on the exception.
Fields that can hold an outside party's number are masked in the log (masking.NUMBER_FIELDS)
and hashed in the store (R12).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, ClassVar, Literal, NamedTuple, Self

from routing.policy.steps import Outcome

Level = Literal["debug", "info", "warning", "error"]

_OMIT = "omit"
_PARSE = "parse"  # metadata: how a stored value becomes the field's type again
OMITTED_WHEN_EMPTY = {_OMIT: True}  # metadata: the field is left out of the line while None or False


@dataclass(frozen=True, kw_only=True)
class CallEvent:
    """One event of a call (or of the policy's follow-up). `call_id` is bound on the logger."""

    NAME: ClassVar[str]
    LEVEL: ClassVar[Level] = "info"
    RECORDED: ClassVar[bool] = True  # kept in the store for the reports

    def fields(self) -> dict[str, object]:
        """The line's fields, in declaration order; enums as their values."""
        out: dict[str, object] = {}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if spec.metadata.get(_OMIT) and (value is None or value is False):
                continue
            out[spec.name] = value.value if isinstance(value, Enum) else value
        return out

    @classmethod
    def from_fields(cls, fields: Mapping[str, object]) -> Self:
        """The event back from its fields as logged or stored (numbers hashed). A field the line
        lacks (a line from an older version) takes its default, or None: reading a record never
        fails, and a field renamed here still fails mypy wherever it is read."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            value = fields.get(spec.name, spec.default if spec.default is not dataclasses.MISSING else None)
            parse: Callable[[Any], Any] | None = spec.metadata.get(_PARSE)
            values[spec.name] = parse(value) if parse is not None and value is not None else value
        return cls(**values)


class RecordedEvent(NamedTuple):
    """One call event as the store keeps it: `at` ISO-8601 UTC, outside numbers in `fields` hashed."""

    at: str
    call_id: str | None
    event: str
    fields: dict[str, object]


def emit(logger: Any, event: CallEvent) -> None:
    """Log `event` on `logger` (a structlog logger, usually bound to the call's call_id)."""
    getattr(logger, event.LEVEL)(event.NAME, **event.fields())


# -- one call, from the dialplan's first request to the caller's hangup ---------------------------


@dataclass(frozen=True, kw_only=True)
class CallStart(CallEvent):
    NAME = "call.start"
    called: str
    caller: str | None  # None: a hidden number (R4)
    hidden: bool
    internal: bool
    target_kind: str  # person | unit | phone | switchboard
    target: str
    unit: str | None  # the unit the call counts for in reports
    hours: str  # policy.hours.OpenState
    channel: str
    instance: str | None  # the service routing it (another one ends it if this one is killed)
    notes: list[str] | None
    # What the plan was made from (#16, policy.decision_inputs; no caller number, R12) and the
    # hash of the config it was made under: `routing explain --call` and `routing whatif`.
    config: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    inputs: dict[str, Any] | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)


@dataclass(frozen=True, kw_only=True)
class CallStep(CallEvent):
    NAME = "call.step"
    step: str  # policy.steps.StepKind
    target: str
    rules: list[str]
    devices: list[str] | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    timeout_s: float | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    mailbox: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    prompt: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    # Where the call stands in its plan (policy.flow.Flow.place): another instance that goes on
    # with the call dates the step from this line (#17).
    place: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)


@dataclass(frozen=True, kw_only=True)
class CallReferral(CallEvent):
    """A referral message is played (R11)."""

    NAME = "call.referral"
    person: str
    reason: str
    until: str | None


@dataclass(frozen=True, kw_only=True)
class CallAnswered(CallEvent):
    NAME = "call.answered"
    by: str
    step: str
    wait_s: float  # since the call began
    rings: int


@dataclass(frozen=True, kw_only=True)
class CallNoAnswer(CallEvent):
    """The ring limit ran out (R1)."""

    NAME = "call.no_answer"
    target: str
    rings: int
    rang_s: float


@dataclass(frozen=True, kw_only=True)
class CallBusy(CallEvent):
    NAME = "call.busy"
    target: str


@dataclass(frozen=True, kw_only=True)
class CallUnavailable(CallEvent):
    NAME = "call.unavailable"
    target: str
    status: str  # unavailable | failed | queue_unserved (the switchboard's queue, #13: its phone rings instead)


@dataclass(frozen=True, kw_only=True)
class CallbackRequested(CallEvent):
    """The caller pressed the callback key (R4); the store keeps the callback."""

    NAME = "callback.requested"
    target: str
    caller: str
    callback_id: int | None  # None: the store failed (logged as store.error)


@dataclass(frozen=True, kw_only=True)
class PromptNotPlayed(CallEvent):
    """Asterisk reported a message as not played (PLAYBACKSTATUS, READSTATUS): the caller heard
    nothing of it, so it answered nothing (R2) and told nothing (R9, R11); the call went on."""

    NAME = "prompt.not_played"
    LEVEL = "error"
    step: str  # the step's kind (referral, announcement, callback), or outbound / feature
    target: str
    prompt: str
    status: str  # what Asterisk said: FAILED, ERROR, …
    rules: list[str]


@dataclass(frozen=True, kw_only=True)
class MobileForward(CallEvent):
    """The approved mobile took the call after the key press (R14, R20: a cost)."""

    NAME = "mobile.forward"
    person: str
    rules: list[str]


@dataclass(frozen=True, kw_only=True)
class CallEnd(CallEvent):
    """The caller's channel hung up: exactly one per call, the call's canonical line."""

    NAME = "call.end"
    outcome: Outcome = field(metadata={_PARSE: Outcome})
    wait_s: float | None  # until the first R2 answer; None without one
    by: str | None
    duration_s: float
    lost: bool = field(
        default=False, metadata=OMITTED_WHEN_EMPTY
    )  # the service let go of the call; Asterisk finished it
    ended_for: str | None = field(
        default=None, metadata=OMITTED_WHEN_EMPTY
    )  # the killed instance whose call another one ended


@dataclass(frozen=True, kw_only=True)
class PolicyViolation(CallEvent):
    NAME = "policy.violation"
    LEVEL = "warning"
    rule: str
    detail: str
    callback_id: int | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)  # R4: the overdue callback
    target: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)


# -- calls out (R17, R18) and callbacks made (R4) --------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OutboundDial(CallEvent):
    NAME = "outbound.dial"
    extension: str
    dialled: str
    rules: list[str]


@dataclass(frozen=True, kw_only=True)
class OutboundBlocked(CallEvent):
    NAME = "outbound.blocked"
    LEVEL = "warning"
    extension: str
    dialled: str
    rule: str
    reason: str
    premium_rate: bool = False  # R18: a barred prefix without approval (else: not a number)

    @classmethod
    def from_fields(cls, fields: Mapping[str, object]) -> Self:
        if "premium_rate" not in fields:  # a line from before the field: its reason tells
            premium = fields.get("rule") == "R18" and "premium" in str(fields.get("reason", ""))
            fields = {**fields, "premium_rate": premium}
        return super().from_fields(fields)


@dataclass(frozen=True, kw_only=True)
class CallPrivate(CallEvent):
    """A private call (R17), recorded for repayment."""

    NAME = "call.private"
    extension: str
    dialled: str


@dataclass(frozen=True, kw_only=True)
class CallbackCalling(CallEvent):
    NAME = "callback.calling"
    RECORDED = False
    callback_id: int
    target: str
    by: str
    device: str
    caller: str


@dataclass(frozen=True, kw_only=True)
class CallbackAttempt(CallEvent):
    NAME = "callback.attempt"
    callback_id: int
    target: str
    by: str
    outcome: str  # service.callback_call.CallbackOutcome
    done: bool


# -- referrals (R11) and feature codes --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReferralSet(CallEvent):
    NAME = "referral.set"
    RECORDED = False
    person: str
    reason: str
    until: str | None
    by: str


@dataclass(frozen=True, kw_only=True)
class ReferralCleared(CallEvent):
    NAME = "referral.cleared"
    RECORDED = False
    person: str
    by: str


@dataclass(frozen=True, kw_only=True)
class FeatureRefused(CallEvent):
    """A feature code that changed nothing: malformed, or from a phone not in the directory."""

    NAME = "feature.refused"
    LEVEL = "warning"
    RECORDED = False
    code: str
    error: str
    extension: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    person: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)


# -- the service's view of calls and phones ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CallUnknown(CallEvent):
    """A step asked for a call the service does not know (e.g. after a restart): the fail-safe."""

    NAME = "call.unknown"
    LEVEL = "warning"
    RECORDED = False
    uniqueid: str
    dialplan_event: str


@dataclass(frozen=True, kw_only=True)
class CallResumed(CallEvent):
    """This instance goes on with a call another instance was routing (#17): the dialplan asked
    it because that one did not answer. The plan was made again from the call's kept inputs
    (#16) and the call goes on at `place` (the plan's step index, see policy.flow.Flow.place)."""

    NAME = "call.resumed"
    LEVEL = "warning"
    place: str
    step: str
    dialplan_event: str
    from_instance: str
    instance: str | None


@dataclass(frozen=True, kw_only=True)
class CallNotResumed(CallEvent):
    """A call another instance was routing that this one cannot go on with (its start is not in
    the store, its config is unknown, the place is not in its plan): the fail-safe finishes it."""

    NAME = "call.not_resumed"
    LEVEL = "warning"  # as call.unknown: the fail-safe has the caller
    RECORDED = False
    uniqueid: str
    dialplan_event: str
    place: str
    why: str


@dataclass(frozen=True, kw_only=True)
class CallRefusedDraining(CallEvent):
    NAME = "call.refused_draining"
    RECORDED = False
    channel: str


@dataclass(frozen=True, kw_only=True)
class InstanceGone(CallEvent):
    """A killed service's calls in progress all have their call.end."""

    NAME = "instance.gone"
    RECORDED = False
    instance: str
    host: str
    calls_ended: int


@dataclass(frozen=True, kw_only=True)
class DeviceState(CallEvent):
    NAME = "device.state"
    RECORDED = False
    device: str
    state: str


# -- the switchboard's queue (#13): recorded for the report's switchboard figures (item 10) ---------


@dataclass(frozen=True, kw_only=True)
class SwitchboardQueued(CallEvent):
    """A caller entered the switchboard's queue: `place` waiting (first time), returned
    (återfall: back from `returned_from`, `why`) or held (by `operator`)."""

    NAME = "switchboard.queued"
    place: str
    history: list[str] = field(default_factory=list)
    returned_from: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    why: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    operator: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)


@dataclass(frozen=True, kw_only=True)
class SwitchboardAnswered(CallEvent):
    """An operator took the call (their phone rings next); `queue_wait_s` since it entered the
    switchboard, `recalled` when it was a held caller coming back (hold_recall_s)."""

    NAME = "switchboard.answered"
    operator: str
    queue_wait_s: float
    place: str  # where it was taken from: waiting, returned, held
    recalled: bool = field(default=False, metadata=OMITTED_WHEN_EMPTY)


@dataclass(frozen=True, kw_only=True)
class SwitchboardConnected(CallEvent):
    """The operator's phone answered: the caller talks to the switchboard (R2)."""

    NAME = "switchboard.connected"
    operator: str


@dataclass(frozen=True, kw_only=True)
class SwitchboardTransfer(CallEvent):
    """An operator put the call through: `target` (an id, or `dialled`, an outside number,
    masked), ringing `devices` for at most `timeout_s` (R1), or into `mailbox`. `mobile_cost`:
    a mobile the operator confirmed (R15, R20)."""

    NAME = "switchboard.transfer"
    operator: str
    kind: str  # policy.transfer.TargetKind
    target: str | None
    dialled: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    devices: list[str] = field(default_factory=list)
    timeout_s: float | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    mailbox: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    passed_over: list[str] = field(default_factory=list)  # "device: why"
    mobile_cost: bool = field(default=False, metadata=OMITTED_WHEN_EMPTY)
    rules: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class SwitchboardPutThrough(CallEvent):
    """The transfer's target answered; `returns`: how often the call had come back before."""

    NAME = "switchboard.put_through"
    target: str | None
    returns: int


@dataclass(frozen=True, kw_only=True)
class SwitchboardHeld(CallEvent):
    NAME = "switchboard.held"
    operator: str
    recall_s: float


@dataclass(frozen=True, kw_only=True)
class SwitchboardLeft(CallEvent):
    """The caller left the switchboard's hands: `why` hangup (the caller hung up while it had
    them), overflow (the queue's timeout: the switchboard's own chain goes on, R1/R2), lease
    (the lease ran out: the dialplan's rescue, R3), hung_up (an operator hung up)."""

    NAME = "switchboard.left"
    why: str
    place: str
    operator: str | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)


def _all_events() -> dict[str, type[CallEvent]]:
    found: dict[str, type[CallEvent]] = {}
    pending = list(CallEvent.__subclasses__())
    while pending:
        kind = pending.pop()
        found[kind.NAME] = kind
        pending += kind.__subclasses__()
    return found


CALL_EVENTS: Mapping[str, type[CallEvent]] = _all_events()
RECORDED: frozenset[str] = frozenset(name for name, kind in CALL_EVENTS.items() if kind.RECORDED)


class LogId(StrEnum):
    """Stable ids of the service's other lines: its lifetime, its links, its faults."""

    SERVICE_STARTED = "service.started"
    # #17: this instance holds the store's active lease (writes the AstDB fail-safe, runs the
    # follow-up round), or another one does: one line each way at a failover.
    SERVICE_ACTIVE = "service.active"
    SERVICE_STANDING_BY = "service.standing_by"
    SERVICE_LEASE_FAILED = "service.lease_failed"  # a round of the active lease failed unexpectedly
    SERVICE_DRAINING = "service.draining"
    # #17: stopping with another instance running: calls in progress are left to it (it goes on
    # with each at its next request), not drained and let go to the fail-safe.
    SERVICE_HANDING_OVER = "service.handing_over"
    SERVICE_STOPPED = "service.stopped"
    SERVICE_CANNOT_LISTEN = "service.cannot_listen"
    INTERRUPTED = "routing.interrupted"
    CONFIG_LOADED = "config.loaded"  # at start: the config's version (hash), units, people
    CONFIG_RELOADED = "config.reloaded"
    CONFIG_UNREADABLE = "config.unreadable"
    CONFIG_RESTART_NEEDED = "config.restart_needed"
    CONFIG_ADVISED_AGAINST = "config.advised_against"  # a setting the policy advises against (routing check warns too)
    AGI_LISTENING = "agi.listening"
    AGI_CLOSED_EARLY = "agi.closed_early"
    AGI_BAD_REQUEST = "agi.bad_request"
    AGI_OVERLOADED = "agi.overloaded"
    AGI_HANDLER_TIMEOUT = "agi.handler_timeout"
    # #17: a call this instance held that another took over or ended: no call.end here
    CALL_GONE_ELSEWHERE = "call.gone_elsewhere"
    AGI_HANDLER_FAILED = "agi.handler_failed"
    AGI_SEND_FAILED = "agi.send_failed"
    AGI_MSET_REFUSED = "agi.mset_refused"
    AGI_UNKNOWN_SCRIPT = "agi.unknown_script"
    AGI_REFUSED = "agi.refused"
    AMI_LOGGED_IN = "ami.logged_in"
    AMI_DISCONNECTED = "ami.disconnected"
    AMI_UNREACHABLE = "ami.unreachable"
    AMI_LOGIN_REFUSED = "ami.login_refused"
    AMI_FILTER_REFUSED = "ami.filter_refused"
    ASTDB_SYNCED = "astdb.synced"
    ASTDB_LEFT_TO_ACTIVE = "astdb.left_to_active"  # AMI is up; the active instance writes the entries (#17)
    ASTDB_ENTRY_REFUSED = "astdb.entry_refused"
    INSTALL_CHECK = "install.check"
    CALENDAR_SYNCED = "calendar.synced"  # debug: a person's feed read, with its referral events
    CALENDAR_UNREACHABLE = "calendar.unreachable"  # once per outage: the last good events kept
    CALENDAR_RECOVERED = "calendar.recovered"  # the feed read again after an outage or a malformed read
    CALENDAR_MALFORMED = "calendar.malformed"  # read but unusable (person, reason): nothing changed
    CALENDAR_EXPIRED = "calendar.expired"  # a failing feed's last good events passed calendar_sync.keep_hours
    STORE_RECOVERED = "store.recovered"
    STORE_PRUNED = "store.pruned"
    STORE_UPGRADED = "store.upgraded"
    STORE_ROLLED_UP = "store.rolled_up"
    OPERATOR_PASSWORD_SET = "operator.password_set"
    OPERATOR_REMOVED = "operator.removed"
    OPERATOR_LOGIN = "operator.login"
    OPERATOR_LOGIN_FAILED = "operator.login_failed"
    OPERATOR_LOGOUT = "operator.logout"
    OPERATOR_REFUSED = "operator.refused"  # a request without a live session or CSRF token
    OPERATOR_REFERRAL_SET = "operator.referral_set"
    OPERATOR_REFERRAL_CLEARED = "operator.referral_cleared"
    OPERATOR_CALLBACK_DONE = "operator.callback_done"
    OPERATOR_CALLBACK_CALL = "operator.callback_call"  # the operator's phone rings, then the caller's (R4)
    CALLBACK_CALL_FAILED = "callback.call_failed"  # a callback call Asterisk or the store did not carry out
    OPERATOR_ANSWER = "operator.answer"
    OPERATOR_TRANSFER = "operator.transfer"
    OPERATOR_HOLD = "operator.hold"
    OPERATOR_HANGUP = "operator.hangup"
    OPERATOR_ACTION_REFUSED = "operator.action_refused"  # a queue action the call's place does not allow
    SWITCHBOARD_SERVING = "switchboard.serving"
    SWITCHBOARD_NO_ARI = "switchboard.no_ari"  # no ARI password: the queue is not served (callers get its R3 fallback)
    SWITCHBOARD_ASTERISK_FAILED = "switchboard.asterisk_failed"  # a request to Asterisk for a queued caller failed
    PROMPT_SYNTH_FAILED = "prompt.synth_failed"
    PROMPT_SYNTH_UNAVAILABLE = "prompt.synth_unavailable"
    PROMPTS_SERVING = "prompts.serving"
    PROMPTS_REFUSED = "prompts.refused"
    SANDBOX_UP = "sandbox.up"
    SANDBOX_BUILDING_ROOT = "sandbox.building_root"
    SANDBOX_INSTALLING_MMDEBSTRAP = "sandbox.installing_mmdebstrap"
    SANDBOX_REMOVING_STALE_BUILD = "sandbox.removing_stale_build"
    SANDBOX_ROOT_BUILT = "sandbox.root_built"
    SANDBOX_ASTERISK_STARTED = "sandbox.asterisk_started"
    SANDBOX_ASTERISK_STOPPED = "sandbox.asterisk_stopped"
    SANDBOX_ASTERISK_SIGTERM = "sandbox.asterisk_sigterm"
    SANDBOX_ASTERISK_SIGKILL = "sandbox.asterisk_sigkill"
    # ARI (#13)
    ARI_CONNECTED = "ari.connected"
    ARI_DISCONNECTED = "ari.disconnected"
    ARI_UNREACHABLE = "ari.unreachable"
    ARI_REFUSED = "ari.refused"
    ARI_RESYNCED = "ari.resynced"
    ARI_REQUEST_FAILED = "ari.request_failed"
    ARI_EVENT_UNREADABLE = "ari.event_unreadable"
    ARI_HANDLER_FAILED = "ari.handler_failed"
