"""The switchboard's queue carried out in Asterisk (#13): the adapter between the pure queue
(`policy.switchboard_queue`, `policy.transfer`) and the calls themselves.

A caller waits in `Stasis(routing,queue|returned,<status>|held,<operator>)` under a lease
(dialplan `routing-switchboard`, docs/switchboard.md): this module renews the lease of every
caller in a Stasis place once a second while the ARI event stream is up, so a dead service, a
dead ARI link or a dead connection lets every caller go to the dialplan's rescue within the
lease (R3). It answers (ARI `continue` to the operator's Dial), transfers and holds (AMI
`Setvar` + `Redirect` of a caller in a conversation, which is in the dialplan, not in Stasis),
sends callers on past the queue's timeout (R1), recalls held ones, and tells the API of every
change. Decisions are the policy's; this module only carries them out and logs them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from routing.ami.client import AmiClient, AmiError
from routing.ari.client import AriClient
from routing.ari.errors import AriError
from routing.ari.events import AriEvent, ChannelHangupRequest, StasisEnd, StasisStart
from routing.ari.models import Channel
from routing.calllog.events import (
    LogId,
    SwitchboardAnswered,
    SwitchboardConnected,
    SwitchboardHeld,
    SwitchboardLeft,
    SwitchboardPutThrough,
    SwitchboardQueued,
    SwitchboardTransfer,
    emit,
)
from routing.config.schema import Operator
from routing.policy.directory import Directory
from routing.policy.state import RoutingState
from routing.policy.switchboard_queue import OPERATOR_DID_NOT_ANSWER, Place, QueueError, SwitchboardQueue, Waiting
from routing.policy.transfer import TargetKind, TransferTarget, transfer_target
from routing.service import dialplan_variables as v
from routing.service.call_router import QUEUE_LEASE_S

if TYPE_CHECKING:
    from routing.ari.stream import Resync
    from routing.service.call_router import ActiveCall

log = structlog.get_logger("routing.switchboard")

TICK_S = 1.0  # renewals, overflow and recalls: a lease of QUEUE_LEASE_S gets several renewals
CHECK_GONE_S = 15.0  # callers in a conversation (not in Stasis) are checked this often for a hangup the service missed
IN_STASIS = frozenset({Place.WAITING, Place.RETURNED, Place.HELD})

# Why a call came back, from ROUTING_SB_STATUS (the Dial's DIALSTATUS, or what the service set
# when every phone of the target was passed over).
RETURN_WHY = {
    "NOANSWER": "no answer",
    "BUSY": "busy",
    "CHANUNAVAIL": "unregistered",
    "CONGESTION": "not reachable",
    "CANCEL": "no answer",
}


def return_why(status: str) -> str:
    return RETURN_WHY.get(status.removeprefix("OPERATOR_"), "not reachable")


@dataclass(frozen=True)
class StoredCall:
    """What the store has of a call another instance routed (#17)."""

    called: str
    waited_s: float | None  # since it entered the switchboard, if that step is stored


@dataclass(frozen=True)
class Entry:
    """What a StasisStart (or, after a reconnect, a channel's Stasis() arguments) says: where
    the caller is in the switchboard."""

    place: Place
    status: str = ""  # returned: ROUTING_SB_STATUS
    operator: str | None = None  # held: who held the caller


def entry_of(args: Iterable[str]) -> Entry | None:
    """`queue`, `returned,<status>`, `held,<operator>`; None for arguments not the queue's."""
    first, *rest = [*args, ""]
    if first == "queue":
        return Entry(Place.WAITING)
    if first == "returned":
        return Entry(Place.RETURNED, status=rest[0] if rest else "")
    if first == "held":
        return Entry(Place.HELD, operator=(rest[0] or None) if rest else None)
    return None


class LiveCalls:
    def __init__(
        self,
        ari: AriClient,
        queue: SwitchboardQueue,
        directory: Callable[[], Directory],
        *,
        call_of: Callable[[str], ActiveCall | None],
        state: Callable[[], Awaitable[RoutingState]],
        ami: Callable[[], AmiClient | None],
        clock: Callable[[], datetime],
        connected: Callable[[], bool],
        on_change: Callable[[], None] | None = None,
        stored: Callable[[str], Awaitable[StoredCall | None]] | None = None,
    ) -> None:
        """`call_of(uniqueid)`: the router's call (history, caller, call id); `state()`: referrals
        and phone states now (for a transfer, R11, passed-over phones); `ami()`: the AMI link for
        callers in a conversation (None while it is down); `connected()`: the ARI event stream is
        up (no renewal without it: the lease then does its work); `on_change()`: the queue
        changed (the API's live stream). `stored(call_id)`: what the store has of a call this
        instance does not route (another instance routes it, or routed it before a takeover,
        #17): the number dialled, and how long ago it entered the switchboard, so that its queue
        timeout (R1) counts from then, not from when this instance saw it."""
        self._stored = stored
        self.ari = ari
        self.queue = queue
        self._directory = directory
        self._call_of = call_of
        self._state = state
        self._ami = ami
        self._clock = clock
        self._connected = connected
        self.on_change = on_change
        self._hanging: set[str] = set()  # channels whose hangup Asterisk announced (ChannelHangupRequest)
        self._hanging_up: dict[str, str] = {}  # channel → the operator whose hangup request is on its way
        self._last_check = 0.0

    # -- the clock and the listeners ----------------------------------------------------------------

    @staticmethod
    def now() -> float:
        return asyncio.get_running_loop().time()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _log(self, waiting: Waiting) -> Any:
        return log.bind(call_id=waiting.call_id)

    def _operator(self, operator_id: str) -> Operator:
        operator = next(
            (o for o in self._directory().config.switchboard.operators if o.id == operator_id),
            None,
        )
        if operator is None:
            raise QueueError(f"'{operator_id}' is no operator in the config", 403)
        return operator

    # -- ARI events -----------------------------------------------------------------------------------

    async def on_event(self, event: AriEvent) -> None:
        if isinstance(event, StasisStart):
            entry = entry_of(event.args)
            if entry is not None:
                await self._entered(event.channel, entry)
        elif isinstance(event, ChannelHangupRequest):
            self._hanging.add(event.channel.id)
        elif isinstance(event, StasisEnd):
            self._left_stasis(event.channel.id)
            self._hanging.discard(event.channel.id)

    async def on_resync(self, resync: Resync) -> None:
        """After a (re)connection: callers still in Stasis are taken (back) in hand; callers the
        queue had in Stasis that are gone left while the link was down (the lease rescued them)."""
        present = {c.id for c in resync.channels}
        for waiting in list(self.queue.calls()):
            if waiting.place in IN_STASIS and waiting.channel not in present:
                self._forget(waiting, "lease")
        for channel in resync.channels:
            where = channel.dialplan
            if where is None or where.app_name != "Stasis":
                continue
            app, *args = where.app_data.split(",")
            entry = entry_of(args)
            if app.strip() == self.ari.app and entry is not None:
                await self._entered(channel, entry, arrived=False)
        self._changed()
        # At once, not at the next tick: after a failover (#17) the callers' leases were last
        # renewed by the instance that died, and run out within QUEUE_LEASE_S of that.
        await self._renew_leases()

    async def _entered(self, channel: Channel, entry: Entry, *, arrived: bool = True) -> None:
        """A caller in a Stasis place: `arrived` from a StasisStart, else seen in a resync (a
        caller the queue knows in its place already is left as it is: it hears what it heard)."""
        known = self.queue.get(channel.id)
        stored = None
        if known is None and self._stored is not None and self._call_of(channel.id) is None:
            stored = await self._stored(channel.id)  # another instance routes it (#17)
        now = self.now()
        if known is None:
            waiting = self.queue.add(self._new_waiting(channel, entry, now, stored), now)
            waiting.place = entry.place
            if entry.place is Place.RETURNED:
                by_operator = entry.status.startswith("OPERATOR_")
                waiting.returned_why = OPERATOR_DID_NOT_ANSWER if by_operator else return_why(entry.status)
                waiting.answered = not by_operator
            if entry.place is Place.HELD:
                waiting.operator = entry.operator
                waiting.answered = True
                waiting.recall_at = now + self.queue.hold_recall_s
        else:
            waiting = known
            if entry.place is Place.RETURNED and known.place is Place.OFFERED:
                self.queue.unanswered(channel.id, now)
            elif entry.place is Place.RETURNED and known.place is Place.TRANSFERRING:
                self.queue.returned(channel.id, return_why(entry.status), now)
            elif not arrived:
                return
        if waiting.place in IN_STASIS:
            emit(
                self._log(waiting),
                SwitchboardQueued(
                    place=waiting.place.value,
                    history=list(waiting.history),
                    returned_from=waiting.returned_from if waiting.place is Place.RETURNED else None,
                    why=waiting.returned_why if waiting.place is Place.RETURNED else None,
                    operator=waiting.operator if waiting.place is Place.HELD else None,
                ),
            )
            await self._comfort(waiting)
        self._changed()

    def _new_waiting(self, channel: Channel, entry: Entry, now: float, stored: StoredCall | None = None) -> Waiting:
        call = self._call_of(channel.id)
        if call is None:  # a caller from before a restart, or another instance's: what Asterisk and the store know
            return Waiting(
                channel=channel.id,
                name=channel.name,
                call_id=channel.id,
                caller=channel.caller.number or None,
                called=stored.called if stored is not None else (channel.dialplan.exten if channel.dialplan else ""),
                since=now - (stored.waited_s if stored is not None and stored.waited_s is not None else 0.0),
            )
        plan_call = call.flow.plan.call
        return Waiting(
            channel=channel.id,
            name=channel.name,
            call_id=call.call_id,
            caller=plan_call.caller,
            called=plan_call.called,
            since=now,
            history=list(call.history),
        )

    async def _comfort(self, waiting: Waiting) -> None:
        """What a caller hears while waiting: ringing until someone has talked to them, then
        music on hold."""
        try:
            if waiting.answered or waiting.place is Place.HELD:
                await self.ari.start_moh(waiting.channel)
            else:
                await self.ari.ring(waiting.channel)
        except AriError as exc:
            self._request_failed(waiting, exc, "ringing or music for a waiting caller")

    def _left_stasis(self, channel: str) -> None:
        """A StasisEnd: a caller the service moved on is in another place already; one still in a
        Stasis place left by itself (hung up, or its lease ran out)."""
        waiting = self.queue.get(channel)
        if waiting is not None and waiting.place in IN_STASIS:
            self._forget(waiting, "hangup" if channel in self._hanging else "lease")

    def _forget(self, waiting: Waiting, why: str, *, by: str | None = None) -> None:
        by = by or self._hanging_up.get(waiting.channel)
        if by is not None:
            why = "hung_up"
        self.queue.remove(waiting.channel)
        emit(self._log(waiting), SwitchboardLeft(why=why, place=waiting.place.value, operator=by or waiting.operator))
        self._changed()

    # -- what the router and the AMI link report --------------------------------------------------------

    def hung_up(self, uniqueid: str) -> None:
        """The caller's hangup (the dialplan's hangup handler): whatever its place."""
        waiting = self.queue.get(uniqueid)
        if waiting is not None:
            self._forget(waiting, "hangup")

    def answered(self, uniqueid: str) -> str | None:
        """A phone answered the caller `uniqueid` (RoutingAnswered): the operator it was offered
        to (who then talks to the caller; 'operator:<id>' is who answered, for the router), or
        the target it was put through to (the switchboard is done with it)."""
        waiting = self.queue.get(uniqueid)
        if waiting is None:
            return None
        now = self.now()
        if waiting.place is Place.OFFERED:
            self.queue.connected(uniqueid, now)
            emit(self._log(waiting), SwitchboardConnected(operator=waiting.operator or ""))
            self._changed()
            return f"operator:{waiting.operator}"
        if waiting.place is Place.TRANSFERRING:
            self.queue.remove(uniqueid)
            emit(
                self._log(waiting),
                SwitchboardPutThrough(target=waiting.transfer_person or waiting.transfer_to, returns=waiting.returns),
            )
            self._changed()
        return None

    # -- the operators' actions ---------------------------------------------------------------------------

    async def answer(self, operator_id: str, channel: str) -> Waiting:
        """The operator takes the call: their phone rings (for the ring limit, R1); of two at
        once exactly one gets it (the claim is made before anything is awaited)."""
        operator = self._operator(operator_id)
        now = self.now()
        before = self.queue.get(channel)
        place, holder = (before.place, before.operator) if before is not None else (Place.WAITING, None)
        waiting = self.queue.claim(channel, operator.id, now)
        emit(
            self._log(waiting),
            SwitchboardAnswered(
                operator=operator.id,
                queue_wait_s=round(now - waiting.since, 3),
                place=place.value,
                recalled=place is Place.HELD,
            ),
        )
        self._changed()
        timeout = str(round(self._directory().ring_timeout_s))
        try:
            await self.ari.set_variable(channel, v.SB_DIAL, operator.device)
            await self.ari.set_variable(channel, v.SB_TIMEOUT, timeout)
            await self._quiet(waiting, place)
            await self.ari.continue_in_dialplan(channel, context=v.SB_CONTEXT, extension=v.SB_ANSWER, priority=1)
        except AriError as exc:
            self._undo_claim(waiting, exc, place, holder)
        return waiting

    async def _quiet(self, waiting: Waiting, place: Place) -> None:
        """Stop the ringing or music before the caller leaves Stasis (in order: ARI runs a
        channel's requests one after the other)."""
        with contextlib.suppress(AriError):
            if waiting.answered or place is Place.HELD:
                await self.ari.stop_moh(waiting.channel)
            else:
                await self.ari.ring_stop(waiting.channel)

    def _undo_claim(self, waiting: Waiting, exc: AriError, place: Place, holder: str | None) -> None:
        if exc.gone:
            self._forget(waiting, "hangup")
            raise QueueError("the caller has hung up", 404) from None
        self._request_failed(waiting, exc, "answer")
        self.queue.release(waiting.channel, place, holder, self.now())
        self._changed()
        raise QueueError("Asterisk did not carry out the answer: try again", 503) from None

    async def transfer(
        self,
        operator_id: str,
        channel: str,
        to: str,
        *,
        voicemail: bool = False,
        mobile: bool = False,
        confirmed: bool = False,
    ) -> TransferTarget:
        """Put the caller through (återfall if nobody answers) or into a mailbox. TransferRefused
        for a target the policy refuses (R15 unconfirmed, R18), QueueError for a call not the
        operator's to transfer."""
        operator = self._operator(operator_id)
        waiting = self._talking(channel, operator.id)
        state = await self._state()
        target = transfer_target(
            self._directory(), state, to, self._clock(), voicemail=voicemail, mobile=mobile, confirmed=confirmed
        )
        ami = self._need_ami()
        if target.kind is TargetKind.VOICEMAIL:
            variables = {v.MAILBOX: target.mailbox or ""}
            exten = v.SB_VOICEMAIL
        elif target.devices:
            variables = {v.SB_DIAL: "&".join(target.devices), v.SB_TIMEOUT: str(round(target.timeout_s))}
            exten = v.SB_TRANSFER
        else:  # every phone passed over: back at once, marked (no ringing a phone that cannot answer)
            variables = {v.SB_STATUS: "BUSY" if target.why_not_rung == "busy" else "CHANUNAVAIL"}
            exten = v.SB_BACK
        # The queue checks again that the call is still this operator's conversation: the state
        # was read meanwhile, and the caller may have hung up.
        waiting = self.queue.transfer(channel, operator.id, target.label, target.person, self.now())
        emit(
            self._log(waiting),
            SwitchboardTransfer(
                operator=operator.id,
                kind=target.kind.value,
                target=None if target.kind is TargetKind.OUTSIDE else target.target,
                dialled=target.target if target.kind is TargetKind.OUTSIDE else None,
                devices=list(target.devices),
                timeout_s=target.timeout_s if target.devices else None,
                mailbox=target.mailbox,
                passed_over=[f"{device}: {why}" for device, why in target.passed_over],
                mobile_cost=target.is_mobile_cost,
                rules=list(target.rules),
            ),
        )
        if target.kind is TargetKind.VOICEMAIL:
            self.queue.remove(channel)  # the mailbox answers: the switchboard is done with it
        self._changed()
        await self._redirect(ami, waiting, variables, exten)
        return target

    async def hold(self, operator_id: str, channel: str) -> Waiting:
        operator = self._operator(operator_id)
        waiting = self._talking(channel, operator.id)
        ami = self._need_ami()
        self.queue.hold(channel, operator.id, self.now())
        emit(self._log(waiting), SwitchboardHeld(operator=operator.id, recall_s=self.queue.hold_recall_s))
        self._changed()
        await self._redirect(ami, waiting, {v.SB_OPERATOR: operator.id}, v.SB_HOLD)
        return waiting

    async def hang_up(self, operator_id: str, channel: str) -> Waiting:
        """The operator ends the call (a caller they have, or one waiting)."""
        operator = self._operator(operator_id)
        waiting = self.queue.get(channel)
        if waiting is None:
            raise QueueError("the call is gone (the caller hung up, or it was put through)", 404)
        if waiting.operator not in (None, operator.id) and waiting.place not in (Place.WAITING, Place.RETURNED):
            raise QueueError(f"the call is {waiting.operator}'s")
        # Asterisk's news of the hangup (StasisEnd, the hangup handler) may come before its answer
        # to the request: the caller is then forgotten as hung up by this operator, not as gone.
        self._hanging_up[channel] = operator.id
        try:
            await self.ari.hangup(channel)
        except AriError as exc:
            if not exc.gone:  # still up: it stays in the operator's view, in its place
                self._request_failed(waiting, exc, "hang up")
                raise QueueError("Asterisk did not hang up the call", 503) from None
        finally:
            self._hanging_up.pop(channel, None)
        if self.queue.get(channel) is waiting:
            self._forget(waiting, "hung_up", by=operator.id)
        return waiting

    def _talking(self, channel: str, operator: str) -> Waiting:
        waiting = self.queue.get(channel)
        if waiting is None:
            raise QueueError("the call is gone (the caller hung up, or it was put through)", 404)
        if waiting.place is not Place.TALKING:
            raise QueueError(f"the call is {waiting.place.value}, not in a conversation")
        if waiting.operator != operator:
            raise QueueError(f"the call is {waiting.operator}'s")
        return waiting

    def _need_ami(self) -> AmiClient:
        ami = self._ami()
        if ami is None:
            raise QueueError("the AMI link to Asterisk is down: the call cannot be moved now", 503)
        return ami

    async def _redirect(self, ami: AmiClient, waiting: Waiting, variables: dict[str, str], exten: str) -> None:
        """The caller leaves its conversation for `exten` of the switchboard's context; the
        operator's leg ends (their phone is free for the next caller)."""
        try:
            for name, value in variables.items():
                await ami.action({"Action": "Setvar", "Channel": waiting.name, "Variable": name, "Value": value})
            await ami.action(
                {
                    "Action": "Redirect",
                    "Channel": waiting.name,
                    "Context": v.SB_CONTEXT,
                    "Exten": exten,
                    "Priority": "1",
                }
            )
        except AmiError as exc:
            # The caller is still talking to the operator (nothing moved): they may try again.
            self._log(waiting).error(LogId.SWITCHBOARD_ASTERISK_FAILED, error=str(exc), what=exten)
            if self.queue.get(waiting.channel) is None:
                self.queue.add(waiting, self.now())
            waiting.place = Place.TALKING
            self._changed()
            raise QueueError(f"Asterisk did not move the call ({exc})", 503) from None

    # -- once a second: leases, overflow (R1), recalls ------------------------------------------------

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                await self.tick()
            except Exception as exc:  # the ticker must outlive any one failure
                log.exception(LogId.SWITCHBOARD_ASTERISK_FAILED, error=str(exc), what="tick")

    async def tick(self) -> None:
        if not self._connected():
            return  # no renewal: within the lease the dialplan rescues every caller (R3)
        now = self.now()
        for waiting in self.queue.overdue(now):
            await self._overflow(waiting)
        for waiting in self.queue.recalls_due(now):
            try:
                await self.answer(waiting.operator or "", waiting.channel)
            except QueueError as exc:
                if exc.status == 403 and self.queue.get(waiting.channel) is waiting:
                    # Not an operator any more (the config changed): anyone may take the caller.
                    self.queue.unhold(waiting.channel, "held by someone no longer an operator", now)
                    self._changed()
        await self._renew_leases()
        if now - self._last_check >= CHECK_GONE_S:
            self._last_check = now
            await self._check_gone()

    async def _renew_leases(self) -> None:
        """Every caller in a Stasis place gets QUEUE_LEASE_S more; one Asterisk no longer has is
        forgotten (it hung up)."""
        held = [w for w in self.queue.calls() if w.place in IN_STASIS]
        results = await asyncio.gather(
            *(self.ari.set_variable(w.channel, "TIMEOUT(absolute)", f"{QUEUE_LEASE_S:g}") for w in held),
            return_exceptions=True,
        )
        for waiting, result in zip(held, results, strict=True):
            if (
                isinstance(result, AriError)
                and result.gone
                and self.queue.get(waiting.channel) is waiting
                and waiting.place in IN_STASIS  # not one answered while the renewal was on its way
            ):
                self._forget(waiting, "hangup")

    async def _overflow(self, waiting: Waiting) -> None:
        """R1: the queue's timeout ran out. A caller nobody talked to goes on in its own flow
        (the switchboard's voicemail or callback, R2); one an operator had is given the
        switchboard's mailbox."""
        self.queue.remove(waiting.channel)
        emit(self._log(waiting), SwitchboardLeft(why="overflow", place=waiting.place.value, operator=waiting.operator))
        self._changed()
        try:
            await self._quiet(waiting, waiting.place)
            if waiting.answered:
                await self.ari.set_variable(waiting.channel, v.MAILBOX, self._directory().config.switchboard.voicemail)
                await self.ari.continue_in_dialplan(
                    waiting.channel, context=v.SB_CONTEXT, extension=v.SB_VOICEMAIL, priority=1
                )
            else:
                await self.ari.set_variable(waiting.channel, v.QUEUE_RESULT, "TIMEOUT")
                await self.ari.continue_in_dialplan(waiting.channel)
        except AriError as exc:
            if not exc.gone:  # the lease still gets the caller out (R3)
                self._request_failed(waiting, exc, "overflow")

    async def _check_gone(self) -> None:
        """Callers in a conversation or a transfer are not in Stasis: their hangup comes from the
        dialplan's hangup handler; should that not reach the service, they are found gone here."""
        for waiting in [w for w in self.queue.calls() if w.place not in IN_STASIS]:
            try:
                await self.ari.channel(waiting.channel)
            except AriError as exc:
                if exc.gone and self.queue.get(waiting.channel) is waiting:
                    self._forget(waiting, "hangup")

    def _request_failed(self, waiting: Waiting, exc: AriError, what: str) -> None:
        self._log(waiting).warning(LogId.SWITCHBOARD_ASTERISK_FAILED, error=str(exc), what=what)
