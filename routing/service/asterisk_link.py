"""The service's AMI link: keeps AstDB's fail-safe entries (R3) in step with the config, at
start, after every reconnect (an Asterisk restart empties nothing, but a new Asterisk may have
an empty AstDB) and after a config change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import structlog
from panoramisk.message import Message

from routing.ami.client import AmiClient, AmiError, AmiTimeout
from routing.calllog.events import LogId
from routing.service import dialplan_variables as v
from routing.service.device_states import DeviceStates
from routing.service.failsafe import FAMILY

log = structlog.get_logger("routing.asterisk")


class AsteriskLink:
    # All the service listens to. UserEvent: its own probe call, RoutingAnswered (a device
    # answered a routed call, from Dial's U()) and RoutingCallback; OriginateResponse: the
    # answer to an Originate (a callback called from the switchboard), without which the
    # action would never complete.
    EVENTS = ("DeviceStateChange", "UserEvent", "OriginateResponse")

    def __init__(
        self,
        ami_factory: Callable[[Callable[[], None]], AmiClient],
        entries: Callable[[], dict[str, str]],
        devices: Callable[[], Iterable[str]],
        states: DeviceStates,
        on_channels: Callable[[set[str], float], None] | None = None,
        on_synced: Callable[[], None] | None = None,
        on_answered: Callable[[str, str, str | None], None] | None = None,
        writes: Callable[[], bool] = lambda: True,
    ):
        """`on_synced()`: after every sync (each login, each config change).
        `on_answered(caller uniqueid, answering channel, linkedid)`: UserEvent RoutingAnswered.
        `writes()`: whether this instance writes the entries (it is the active one, #17)."""
        self._entries = entries
        self._writes = writes
        self._on_channels = on_channels
        self._on_synced = on_synced
        self._devices = devices
        self.states = states
        self._ami = ami_factory(self._logged_in)
        self._ami.on_event("DeviceStateChange", self._device_state)
        self._on_answered = on_answered
        if on_answered is not None:
            self._ami.on_event("UserEvent", self._user_event)
        self._sync_task: asyncio.Task[None] | None = None
        self.synced = asyncio.Event()

    @property
    def ami(self) -> AmiClient:
        return self._ami

    async def start(self) -> None:
        await self._ami.connect()

    def close(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
        self._ami.close()

    def _logged_in(self) -> None:
        self.resync()

    def resync(self) -> None:
        """Send the fail-safe entries again (after a login or a config change)."""
        if self._sync_task is not None and not self._sync_task.done():
            self._sync_task.cancel()
        self.synced.clear()
        self._sync_task = asyncio.get_running_loop().create_task(self._sync())

    def _device_state(self, message: Message) -> None:
        self.states.update(str(message.get("Device", "")), str(message.get("State", "")))

    def _user_event(self, message: Message) -> None:
        answer = answer_report(message)
        if answer is not None and self._on_answered is not None:
            self._on_answered(*answer)

    async def _sync(self) -> None:
        wanted = self._entries()
        try:
            if self._on_channels is not None:
                # After an Asterisk restart, calls the service still follows may be gone: the
                # router ends those (they can no longer send their hangup).
                asked_at = asyncio.get_running_loop().time()
                self._on_channels(await self._ami.channel_names(), asked_at)
            await self._read_device_states()
            if not self._writes():
                log.info(LogId.ASTDB_LEFT_TO_ACTIVE, entries=len(wanted), unavailable=len(self.states.unavailable()))
                self._done()
                return
            present = await self._ami.db_keys(FAMILY)
            refused = 0
            for key, value in wanted.items():
                if present.get(key) != value:
                    refused += not await self._put(key, value)
            stale = [key for key in present if key not in wanted]
            for key in stale:
                await self._ami.db_del(FAMILY, key)
        except AmiError as exc:
            log.error(exc.log_id, error=str(exc), what="fail-safe entries not synced; retried at next login")
            return
        log.info(
            LogId.ASTDB_SYNCED,
            entries=len(wanted),
            removed=len(stale),
            refused=refused,
            unavailable=len(self.states.unavailable()),
            busy=len(self.states.busy()),
        )
        self._done()

    def _done(self) -> None:
        self.synced.set()
        if self._on_synced is not None:
            self._on_synced()

    async def _put(self, key: str, value: str) -> bool:
        """One entry; one Asterisk refuses is logged with its key and never stops the others.
        Asterisk being gone (a timeout) stops the sync: it is retried at the next login."""
        try:
            await self._ami.db_put(FAMILY, key, value)
        except AmiTimeout:
            raise
        except AmiError as exc:
            log.error(LogId.ASTDB_ENTRY_REFUSED, key=f"{FAMILY}/{key}", chars=len(value), error=str(exc))
            return False
        return True

    async def _read_device_states(self) -> None:
        """Asterisk reports changes only; at login every phone's state is asked once."""
        devices = sorted(set(self._devices()))
        self.states.forget()
        self.states.watch(devices)
        for device in devices:
            reply = await self._ami.action({"Action": "Getvar", "Variable": f"DEVICE_STATE({device})"})
            if isinstance(reply, Message):
                self.states.update(device, str(reply.get("Value", "UNKNOWN")))


def answer_report(message: Message) -> tuple[str, str, str | None] | None:
    """UserEvent RoutingAnswered (routing-answered, on the answering channel) as (the caller's
    uniqueid, the answering channel, the call's linkedid); None for any other event."""
    if message.get("UserEvent") != v.USER_EVENT_ANSWERED:
        return None
    caller = str(message.get(v.ANSWERED_CALLER, ""))
    if not caller:
        return None
    linkedid = message.get("Linkedid")
    return caller, str(message.get("Channel", "")), str(linkedid) if linkedid else None
