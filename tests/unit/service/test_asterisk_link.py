"""The AMI link's events, without Asterisk: what reaches the router from UserEvents."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from panoramisk.message import Message

from routing.ami.client import AmiClient
from routing.service.asterisk_link import AsteriskLink
from routing.service.device_states import DeviceStates


class EventsOnly:
    """Stands in for AmiClient where only on_event is used (no connection is made)."""

    def __init__(self) -> None:
        self.callbacks: list[tuple[str, Callable[[Message], None]]] = []

    def on_event(self, pattern: str, callback: Callable[[Message], None]) -> None:
        self.callbacks.append((pattern, callback))

    def deliver(self, fields: dict[str, str]) -> None:
        message = Message(fields)
        for pattern, callback in self.callbacks:
            if pattern in ("*", fields.get("Event")):
                callback(message)


def link_with(answers: list[tuple[str, str, str | None]]) -> EventsOnly:
    ami = EventsOnly()
    AsteriskLink(
        lambda _on_login: cast(AmiClient, ami),
        dict,
        list,
        DeviceStates(),
        on_answered=lambda *answer: answers.append(answer),
    )
    return ami


def test_routing_answered_user_event_reaches_the_router_with_the_answering_channel_and_the_call_id() -> None:
    answers: list[tuple[str, str, str | None]] = []
    ami = link_with(answers)
    ami.deliver(
        {
            "Event": "UserEvent",
            "UserEvent": "RoutingAnswered",
            "Caller": "1795816916.18",
            "Channel": "Local/answer1-6100@sandbox-phones-0000002a;1",
            "Uniqueid": "1795816916.21",
            "Linkedid": "1795816916.18",
        }
    )
    assert answers == [("1795816916.18", "Local/answer1-6100@sandbox-phones-0000002a;1", "1795816916.18")]


def test_other_user_events_and_one_without_a_caller_are_not_answers() -> None:
    answers: list[tuple[str, str, str | None]] = []
    ami = link_with(answers)
    ami.deliver({"Event": "UserEvent", "UserEvent": "RoutingDoctor", "Id": "x"})
    ami.deliver({"Event": "UserEvent", "UserEvent": "RoutingAnswered", "Channel": "PJSIP/5001-1"})
    assert answers == []
