"""Reading the events WebSocket's frames: typed where used, never an exception on a new type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from routing.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    ChannelLeftBridge,
    Dial,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    parse_event,
    parse_frame,
)

CHANNEL: dict[str, Any] = {
    "id": "1733.4",
    "name": "PJSIP/trunk-00000004",
    "state": "Ring",
    "caller": {"name": "", "number": "0701234567"},
    "connected": {"name": "Anna", "number": "5001"},
    "accountcode": "",
    "dialplan": {
        "context": "routing-inbound",
        "exten": "5000",
        "priority": 3,
        "app_name": "Stasis",
        "app_data": "routing,queue",
    },
    "creationtime": "2026-12-02T06:25:13.024+0000",
    "language": "sv",
}
BRIDGE: dict[str, Any] = {
    "id": "b1",
    "technology": "simple_bridge",
    "bridge_type": "mixing",
    "bridge_class": "stasis",
    "creator": "Stasis",
    "name": "",
    "channels": ["1733.4"],
    "creationtime": "x",
}
PLAYBACK = {"id": "p1", "media_uri": "sound:beep", "target_uri": "channel:1733.4", "state": "done"}


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "application": "routing", "timestamp": "2026-12-02T06:25:14.000+0000", **fields}


def test_stasis_start_has_its_args_and_the_channel() -> None:
    parsed = parse_event(event("StasisStart", args=["queue", "5000"], channel=CHANNEL))
    assert isinstance(parsed, StasisStart)
    assert parsed.args == ("queue", "5000")
    assert parsed.application == "routing"
    assert parsed.channel.id == "1733.4"
    assert parsed.channel.caller.number == "0701234567"
    assert parsed.channel.connected.name == "Anna"
    assert parsed.channel.dialplan is not None and parsed.channel.dialplan.app_name == "Stasis"
    assert parsed.channel.dialplan.priority == 3
    assert parsed.replace_channel is None


def test_channel_events() -> None:
    assert isinstance(parse_event(event("StasisEnd", channel=CHANNEL)), StasisEnd)
    destroyed = parse_event(event("ChannelDestroyed", cause=16, cause_txt="Normal Clearing", channel=CHANNEL))
    assert isinstance(destroyed, ChannelDestroyed) and (destroyed.cause, destroyed.cause_txt) == (16, "Normal Clearing")
    hangup = parse_event(event("ChannelHangupRequest", soft=True, channel=CHANNEL))
    assert isinstance(hangup, ChannelHangupRequest) and hangup.soft and hangup.cause is None
    dtmf = parse_event(event("ChannelDtmfReceived", digit="1", duration_ms=120, channel=CHANNEL))
    assert isinstance(dtmf, ChannelDtmfReceived) and (dtmf.digit, dtmf.duration_ms) == ("1", 120)


def test_bridge_playback_and_dial_events() -> None:
    entered = parse_event(event("ChannelEnteredBridge", bridge=BRIDGE, channel=CHANNEL))
    assert isinstance(entered, ChannelEnteredBridge)
    assert entered.bridge.channels == ("1733.4",) and entered.channel is not None
    left = parse_event(event("ChannelLeftBridge", bridge=BRIDGE, channel=CHANNEL))
    assert isinstance(left, ChannelLeftBridge) and left.bridge.bridge_type == "mixing"
    finished = parse_event(event("PlaybackFinished", playback=PLAYBACK))
    assert isinstance(finished, PlaybackFinished) and finished.playback.state == "done"
    dial = parse_event(event("Dial", peer=CHANNEL, dialstatus="NOANSWER", dialstring="PJSIP/5001"))
    assert isinstance(dial, Dial) and (dial.dialstatus, dial.dialstring, dial.caller) == (
        "NOANSWER",
        "PJSIP/5001",
        None,
    )


def test_an_unknown_type_is_passed_on_with_its_body() -> None:
    body = event("ChannelTalkingStarted", channel=CHANNEL)
    parsed = parse_event(body)
    assert type(parsed) is UnknownEvent
    assert parsed.type == "ChannelTalkingStarted" and parsed.raw == body


@pytest.mark.parametrize(
    "body",
    [
        event("StasisStart", args=["x"]),  # no channel
        event("StasisStart", args=["x"], channel="1733.4"),  # not an object
        event("ChannelDtmfReceived", channel=CHANNEL),  # no digit
        event("PlaybackFinished", playback=None),
        ["not", "an", "object"],
        {"no": "type"},
    ],
)
def test_a_body_that_does_not_read_as_its_type_is_unknown_not_an_exception(body: object) -> None:
    assert isinstance(parse_event(body), UnknownEvent)


def test_a_frame_is_json_or_a_value_error() -> None:
    assert isinstance(parse_frame(json.dumps(event("StasisEnd", channel=CHANNEL))), StasisEnd)
    with pytest.raises(ValueError):
        parse_frame("<html>not json</html>")


def test_missing_fields_read_as_empty_not_as_errors() -> None:
    parsed = parse_event(event("StasisStart", channel={"id": "9"}))
    assert isinstance(parsed, StasisStart)
    assert (parsed.channel.name, parsed.channel.caller.number, parsed.channel.dialplan, parsed.args) == (
        "",
        "",
        None,
        (),
    )
