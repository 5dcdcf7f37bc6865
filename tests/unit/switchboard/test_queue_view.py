"""#13: what the switchboard's adapter reads from Stasis() arguments, and what an operator is
shown of a call in the queue (R15: after an återfall, the person's referral, cover and mobile)."""

from __future__ import annotations

from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState
from routing.policy.switchboard_queue import Place, SwitchboardQueue, Waiting
from routing.switchboard.live_calls import Entry, entry_of, return_why
from routing.switchboard.queue_view import call_entry, called_label
from tests.unit.policy.builders import at, directory

NOW = at("2026-12-01 10:15")


def test_stasis_arguments_name_the_place_in_the_queue() -> None:
    assert entry_of(["queue"]) == Entry(Place.WAITING)
    assert entry_of(["returned", "BUSY"]) == Entry(Place.RETURNED, status="BUSY")
    assert entry_of(["held", "eva"]) == Entry(Place.HELD, operator="eva")
    assert entry_of(["held"]) == Entry(Place.HELD, operator=None)
    assert entry_of([]) is None
    assert entry_of(["something-else"]) is None


def test_why_a_call_came_back_in_the_operators_words() -> None:
    assert return_why("NOANSWER") == "no answer"
    assert return_why("BUSY") == "busy"
    assert return_why("CHANUNAVAIL") == "unregistered"
    assert return_why("OPERATOR_NOANSWER") == "no answer"
    assert return_why("") == "not reachable"


def test_called_numbers_as_an_operator_says_them() -> None:
    d = directory()
    assert called_label(d, "5001") == "Anna Lindqvist (5001)"
    assert called_label(d, "5000") == directory().label("soc")
    assert called_label(d, "9000") == "Växeln (9000)"
    assert called_label(d, "5099") == "Socialjouren (5099)"


def test_r15_a_returned_call_shows_the_persons_referral_cover_and_mobile() -> None:
    d = directory()
    queue = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    queue.add(Waiting("ch1", "PJSIP/trunk-1", "call-1", "0701", "9000", since=100.0), 100.0)
    queue.claim("ch1", "eva", 101.0)
    queue.connected("ch1", 102.0)
    queue.transfer("ch1", "eva", "Anna Lindqvist (5001)", "soc1", 110.0)
    waiting = queue.returned("ch1", "no answer", 113.0)
    referrals = RoutingState(referrals={"soc1": Referral("soc1", Reason.MEETING, at("2026-12-01 11:00"))})
    shown = call_entry(waiting, 115.0, d, {"PJSIP/5001": "NOT_INUSE"}, referrals, NOW)
    assert (shown["place"], shown["waited_s"], shown["in_place_s"], shown["returns"]) == ("returned", 15.0, 2.0, 1)
    assert shown["returned"]["from"] == "Anna Lindqvist (5001)" and shown["returned"]["why"] == "no answer"
    anna = shown["returned"]["person"]
    assert (anna["mobile"], anna["cover"], anna["phone_state"]) == ("0701234567", "5002", "free")
    assert anna["referral"]["reason"] == "meeting"
    assert shown["caller"] == "0701"  # R12: the API serves this to logged-in operators only
