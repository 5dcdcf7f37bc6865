"""The events of the events WebSocket that the switchboard uses, typed; every other event (a
new Asterisk, an event nobody asked for) arrives as UnknownEvent with its raw body: reading an
event never raises."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from routing.ari.models import Bridge, Channel, Playback


@dataclass(frozen=True, kw_only=True)
class AriEvent:
    type: str
    application: str = ""
    timestamp: str = ""


@dataclass(frozen=True, kw_only=True)
class ChannelEvent(AriEvent):
    channel: Channel


@dataclass(frozen=True, kw_only=True)
class StasisStart(ChannelEvent):
    """A channel entered the app: `args` are Stasis()'s arguments after the app's name (or an
    originate's appArgs); `replace_channel` the channel it replaces (a masquerade)."""

    args: tuple[str, ...] = ()
    replace_channel: Channel | None = None


@dataclass(frozen=True, kw_only=True)
class StasisEnd(ChannelEvent):
    """The channel left the app (hung up, or continued in the dialplan)."""


@dataclass(frozen=True, kw_only=True)
class ChannelStateChange(ChannelEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class ChannelDestroyed(ChannelEvent):
    cause: int = 0
    cause_txt: str = ""


@dataclass(frozen=True, kw_only=True)
class ChannelHangupRequest(ChannelEvent):
    cause: int | None = None
    soft: bool = False


@dataclass(frozen=True, kw_only=True)
class ChannelDtmfReceived(ChannelEvent):
    digit: str
    duration_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class ChannelEnteredBridge(AriEvent):
    bridge: Bridge
    channel: Channel | None = None


@dataclass(frozen=True, kw_only=True)
class ChannelLeftBridge(AriEvent):
    bridge: Bridge
    channel: Channel


@dataclass(frozen=True, kw_only=True)
class PlaybackStarted(AriEvent):
    playback: Playback


@dataclass(frozen=True, kw_only=True)
class PlaybackFinished(AriEvent):
    """`playback.state` 'done' or 'failed' (the media could not be played)."""

    playback: Playback


@dataclass(frozen=True, kw_only=True)
class Dial(AriEvent):
    """A Dial's progress for `peer`: dialstatus '' at the start, then RINGING, ANSWER, BUSY,
    NOANSWER, CHANUNAVAIL, CANCEL, …"""

    peer: Channel
    dialstatus: str
    caller: Channel | None = None
    dialstring: str = ""
    forward: str = ""


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(AriEvent):
    """An event without a type here, or one whose body did not read as its type."""

    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


def _common(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": str(body.get("type", "")),
        "application": str(body.get("application", "")),
        "timestamp": str(body.get("timestamp", "")),
    }


def _channel(body: Mapping[str, Any], key: str = "channel") -> Channel:
    return Channel.from_json(body[key])  # KeyError: the event is not what its type says


def _optional_channel(body: Mapping[str, Any], key: str) -> Channel | None:
    return Channel.from_json(body[key]) if isinstance(body.get(key), Mapping) else None


def _optional_int(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _args(body: Mapping[str, Any]) -> tuple[str, ...]:
    value = body.get("args")
    return tuple(str(arg) for arg in value) if isinstance(value, list) else ()


_READERS: dict[str, Callable[[Mapping[str, Any], dict[str, Any]], AriEvent]] = {
    "StasisStart": lambda b, c: StasisStart(
        **c, channel=_channel(b), args=_args(b), replace_channel=_optional_channel(b, "replace_channel")
    ),
    "StasisEnd": lambda b, c: StasisEnd(**c, channel=_channel(b)),
    "ChannelStateChange": lambda b, c: ChannelStateChange(**c, channel=_channel(b)),
    "ChannelDestroyed": lambda b, c: ChannelDestroyed(
        **c, channel=_channel(b), cause=_optional_int(b, "cause") or 0, cause_txt=str(b.get("cause_txt", ""))
    ),
    "ChannelHangupRequest": lambda b, c: ChannelHangupRequest(
        **c, channel=_channel(b), cause=_optional_int(b, "cause"), soft=b.get("soft") is True
    ),
    "ChannelDtmfReceived": lambda b, c: ChannelDtmfReceived(
        **c, channel=_channel(b), digit=str(b["digit"]), duration_ms=_optional_int(b, "duration_ms") or 0
    ),
    "ChannelEnteredBridge": lambda b, c: ChannelEnteredBridge(
        **c, bridge=Bridge.from_json(b["bridge"]), channel=_optional_channel(b, "channel")
    ),
    "ChannelLeftBridge": lambda b, c: ChannelLeftBridge(**c, bridge=Bridge.from_json(b["bridge"]), channel=_channel(b)),
    "PlaybackStarted": lambda b, c: PlaybackStarted(**c, playback=Playback.from_json(b["playback"])),
    "PlaybackFinished": lambda b, c: PlaybackFinished(**c, playback=Playback.from_json(b["playback"])),
    "Dial": lambda b, c: Dial(
        **c,
        peer=_channel(b, "peer"),
        dialstatus=str(b.get("dialstatus", "")),
        caller=_optional_channel(b, "caller"),
        dialstring=str(b.get("dialstring", "")),
        forward=str(b.get("forward", "")),
    ),
}


def parse_event(body: object) -> AriEvent:
    """One decoded event: typed if its type is one of ours and it reads as such, else UnknownEvent."""
    if not isinstance(body, Mapping):
        return UnknownEvent(type="", raw={"body": body})
    common = _common(body)
    reader = _READERS.get(common["type"])
    if reader is None:
        return UnknownEvent(**common, raw=body)
    try:
        return reader(body, common)
    except (KeyError, TypeError, ValueError):
        return UnknownEvent(**common, raw=body)


def parse_frame(text: str) -> AriEvent:
    """One WebSocket text frame. ValueError if it is not JSON at all (the caller logs it)."""
    return parse_event(json.loads(text))
