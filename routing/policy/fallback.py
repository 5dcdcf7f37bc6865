"""R2/R3: what follows no answer, busy or unavailable, ending in an answer every time."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from routing.config.schema import FallbackItem
from routing.policy import spoken_swedish
from routing.policy.directory import Directory
from routing.policy.state import RoutingState
from routing.policy.steps import CallbackOffer, PlannedStep, Queue, Ring, StepKind, Voicemail


@dataclass
class Chain:
    """Steps being planned for one call, with the notes `routing explain` shows."""

    directory: Directory
    state: RoutingState
    at: datetime  # local wall-clock time of the call
    caller_hidden: bool
    steps: list[PlannedStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rung: set[str] = field(default_factory=set)  # devices rung already: never twice in one call

    def ring(self, step: Ring) -> None:
        fresh = [device for device in step.devices if device not in self.rung]
        devices = tuple(device for device in fresh if self._can_ring(device))
        if not devices:
            why = "cannot ring now" if fresh else "has rung already in this call"
            self.notes.append(f"{step.kind.value.replace('_', ' ')} {step.target} {why}: skipped")
            return
        self.rung.update(devices)
        mobile = step.mobile if step.mobile in devices else None
        self.steps.append(replace(step, devices=devices, mobile=mobile))

    def _can_ring(self, device: str) -> bool:
        why = self.state.cannot_ring(device)
        if why == "unregistered":
            self.notes.append(f"{device} is unavailable (not registered): not rung")
        elif why == "busy":
            self.notes.append(f"{device} is busy in another call: not rung (R2: busy goes on at once)")
        return why is None

    def ring_number(self, number: str, kind: StepKind, why: str, hops: int, rules: tuple[str, ...]) -> None:
        """Ring what an extension or unit number stands for. A person with a referral is not
        rung: their own cover is followed instead, at most `max_redirects` hops (no loops)."""
        d = self.directory
        timeout = d.ring_timeout_s
        if hops > d.config.max_redirects:
            self.notes.append(f"redirect cap ({d.config.max_redirects}) reached at {number}: not followed")
            return
        if number in d.by_extension:
            person = d.by_extension[number]
            referral = self.state.referral(person.id, self.at)
            if referral is not None:
                self.notes.append(f"{person.id} has a referral ({referral.reason}): not rung (R11)")
                if person.cover is not None:
                    self.ring_number(person.cover, kind, f"cover of {person.id}", hops + 1, rules)
                return
            self.ring(Ring(kind, person.id, (person.device,), timeout, ("R1", *rules), why))
        elif number in d.phones:
            phone = d.phones[number]
            self.ring(Ring(kind, number, (phone.device,), timeout, ("R1", *rules), why))
        elif number in d.by_number:
            unit = d.by_number[number]
            devices = tuple(
                d.people[p].device for p in self.present_members(unit.id) if d.people[p].device not in self.rung
            )
            if devices:
                self.ring(Ring(kind, unit.id, devices, timeout, ("R1", *rules), why))
            else:
                self.notes.append(f"no member of {unit.id} is in who has not rung already: its duty phone instead")
                self.ring_number(unit.duty_phone, kind, f"duty phone of {unit.id}", hops + 1, rules)
        elif number == d.config.switchboard.extension:
            self.ring_switchboard(why)

    def present_members(self, unit: str) -> tuple[str, ...]:
        """Members without a referral in force (R11: people who are away are not rung)."""
        return tuple(p for p in self.directory.members[unit] if self.state.referral(p, self.at) is None)

    def ring_switchboard(self, why: str) -> None:
        """The switchboard answers: with operators configured (#13), the caller waits in its
        queue (R1: no longer than the queue's timeout); else its phone rings (R1)."""
        board = self.directory.config.switchboard
        ring = Ring(
            StepKind.SWITCHBOARD, board.extension, (board.device,), self.directory.ring_timeout_s, ("R1", "R2"), why
        )
        if not board.operators:
            self.ring(ring)
            return
        if any(isinstance(step, Queue) for step in self.steps):
            self.notes.append("the switchboard's queue has been planned already: not twice")
            return
        timeout = board.queue_timeout_s if board.queue_timeout_s is not None else self.directory.ring_timeout_s
        self.rung.add(board.device)  # the queue's fallback rings it: never again after
        self.steps.append(
            Queue(StepKind.SWITCHBOARD, board.extension, timeout, ring, ("R1", "R2"), f"{why}: its queue")
        )

    def voicemail(self, mailbox: str | None, target: str, why: str, rules: tuple[str, ...] = ("R2",)) -> None:
        if mailbox is None:
            return
        if any(isinstance(s, Voicemail) and s.mailbox == mailbox for s in self.steps):
            return
        self.steps.append(Voicemail(StepKind.VOICEMAIL, target, mailbox, rules, why))

    def follow(
        self,
        chain: tuple[FallbackItem, ...],
        *,
        target: str,
        cover: str | None,
        cover_kind: StepKind,
        mailbox: str | None,
        may_ring: bool,
    ) -> None:
        """The R2 chain after the first step. Outside hours (`may_ring` false) only the links
        that answer without a person are taken."""
        for item in chain:
            if item is FallbackItem.COVER and may_ring and cover is not None:
                rules = ("R8",) if cover_kind is StepKind.DUTY_PHONE else ("R2",)
                self.ring_number(cover, cover_kind, f"{cover_kind.value.replace('_', ' ')} of {target}", 1, rules)
            elif item is FallbackItem.SWITCHBOARD and may_ring:
                self.ring_switchboard(f"the switchboard answers for {target}")
            elif item is FallbackItem.VOICEMAIL:
                self.voicemail(mailbox, target, f"voicemail of {target}")
            elif item is FallbackItem.CALLBACK:
                self.callback(target, mailbox)
        self.last_resort()

    def callback(self, target: str, mailbox: str | None) -> None:
        if self.caller_hidden:
            self.notes.append("hidden caller number: no callback possible, voicemail instead (R4)")
            self.voicemail(mailbox, target, f"voicemail of {target} (hidden caller)", ("R2", "R4"))
            return
        digit = self.directory.config.callback.digit
        self.steps.append(
            CallbackOffer(
                StepKind.CALLBACK,
                target,
                digit,
                self.directory.config.callback.timeout_s,
                spoken_swedish.CALLBACK_OFFER.format(digit=digit),
                ("R4",),
                f"callback offer for {target}: press {digit}",
            )
        )

    def last_resort(self) -> None:
        """R3: should every step before fail, the switchboard's voicemail answers."""
        board = self.directory.config.switchboard
        last = self.steps[-1] if self.steps else None
        if isinstance(last, Voicemail) and last.mailbox == board.voicemail:
            return
        self.steps.append(
            Voicemail(StepKind.VOICEMAIL, "switchboard", board.voicemail, ("R3",), "last resort if all else fails")
        )
