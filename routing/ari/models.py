"""What ARI answers, typed: frozen dataclasses read from Asterisk's JSON (rest-api/api-docs).

Reading never fails on a field Asterisk leaves out or adds (a newer Asterisk, a channel still
being set up): a missing string is "", a missing number 0. A body that is not an object at all
raises ValueError, which the client reports as an AriError."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _object(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"ARI sent {type(data).__name__} where a {what} object belongs")
    return data


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


@dataclass(frozen=True)
class CallerId:
    name: str
    number: str

    @classmethod
    def from_json(cls, data: object) -> CallerId:
        if not isinstance(data, Mapping):
            return cls(name="", number="")
        return cls(name=_str(data, "name"), number=_str(data, "number"))


@dataclass(frozen=True)
class DialplanLocation:
    """Where the channel is in the dialplan; in Stasis: app_name 'Stasis', app_data the app's args."""

    context: str
    exten: str
    priority: int
    app_name: str
    app_data: str

    @classmethod
    def from_json(cls, data: object) -> DialplanLocation | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            context=_str(data, "context"),
            exten=_str(data, "exten"),
            priority=_int(data, "priority"),
            app_name=_str(data, "app_name"),
            app_data=_str(data, "app_data"),
        )


@dataclass(frozen=True)
class Channel:
    """`state`: Down, Rsrved, OffHook, Dialing, Ring, Ringing, Up, Busy, Dialing Offhook, Pre-ring, Unknown."""

    id: str
    name: str
    state: str
    caller: CallerId
    connected: CallerId
    dialplan: DialplanLocation | None
    creationtime: str

    @classmethod
    def from_json(cls, data: object) -> Channel:
        body = _object(data, "Channel")
        return cls(
            id=_str(body, "id"),
            name=_str(body, "name"),
            state=_str(body, "state"),
            caller=CallerId.from_json(body.get("caller")),
            connected=CallerId.from_json(body.get("connected")),
            dialplan=DialplanLocation.from_json(body.get("dialplan")),
            creationtime=_str(body, "creationtime"),
        )


@dataclass(frozen=True)
class Bridge:
    """`bridge_type`: mixing, holding, dtmf_events, proxy_media, video_sfu, video_single."""

    id: str
    bridge_type: str
    technology: str
    name: str
    channels: tuple[str, ...]  # channel ids

    @classmethod
    def from_json(cls, data: object) -> Bridge:
        body = _object(data, "Bridge")
        return cls(
            id=_str(body, "id"),
            bridge_type=_str(body, "bridge_type"),
            technology=_str(body, "technology"),
            name=_str(body, "name"),
            channels=_strings(body, "channels"),
        )


@dataclass(frozen=True)
class Playback:
    """`state`: queued, playing, continuing, done, failed (Asterisk could not play the media)."""

    id: str
    media_uri: str
    target_uri: str
    state: str

    @classmethod
    def from_json(cls, data: object) -> Playback:
        body = _object(data, "Playback")
        return cls(
            id=_str(body, "id"),
            media_uri=_str(body, "media_uri"),
            target_uri=_str(body, "target_uri"),
            state=_str(body, "state"),
        )


@dataclass(frozen=True)
class Application:
    """A Stasis application as Asterisk keeps it: what it is subscribed to (the resync's source)."""

    name: str
    channel_ids: tuple[str, ...]
    bridge_ids: tuple[str, ...]

    @classmethod
    def from_json(cls, data: object) -> Application:
        body = _object(data, "Application")
        return cls(
            name=_str(body, "name"),
            channel_ids=_strings(body, "channel_ids"),
            bridge_ids=_strings(body, "bridge_ids"),
        )


@dataclass(frozen=True)
class AsteriskInfo:
    version: str
    entity_id: str
    startup_time: str

    @classmethod
    def from_json(cls, data: object) -> AsteriskInfo:
        body = _object(data, "AsteriskInfo")
        system = body.get("system")
        status = body.get("status")
        return cls(
            version=_str(system, "version") if isinstance(system, Mapping) else "",
            entity_id=_str(system, "entity_id") if isinstance(system, Mapping) else "",
            startup_time=_str(status, "startup_time") if isinstance(status, Mapping) else "",
        )
