"""Device states from AMI (DeviceStateChange, DEVICE_STATE()): which phones cannot ring now."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import structlog

from routing.calllog.events import DeviceState, emit

log = structlog.get_logger("routing.devices")

UNREACHABLE = frozenset({"UNAVAILABLE", "INVALID"})
IN_A_CALL = frozenset({"INUSE", "BUSY", "ONHOLD", "RINGINUSE"})


class DeviceStates:
    """The last state Asterisk reported for each device the config names."""

    def __init__(self) -> None:
        self._states: dict[str, str] = {}
        self.watched: frozenset[str] = frozenset()
        self._listeners: list[Callable[[str, str], None]] = []

    def listen(self, listener: Callable[[str, str], None]) -> None:
        """`listener(device, state)` at every change (the switchboard's live stream)."""
        self._listeners.append(listener)

    def watch(self, devices: Iterable[str]) -> None:
        self.watched = frozenset(devices)

    def update(self, device: str, state: str) -> None:
        if device not in self.watched:
            return
        state = state.upper()
        if self._states.get(device) != state:
            self._states[device] = state
            emit(log, DeviceState(device=device, state=state))
            for listener in self._listeners:
                listener(device, state)

    def state(self, device: str) -> str:
        return self._states.get(device, "UNKNOWN")

    def known(self) -> dict[str, str]:
        """Every device's last reported state (a copy), for the switchboard's directory."""
        return dict(self._states)

    def unavailable(self) -> frozenset[str]:
        return frozenset(d for d, s in self._states.items() if s in UNREACHABLE)

    def busy(self) -> frozenset[str]:
        return frozenset(d for d, s in self._states.items() if s in IN_A_CALL)

    def forget(self) -> None:
        """After losing AMI nothing is known: every phone may be tried again."""
        self._states.clear()
