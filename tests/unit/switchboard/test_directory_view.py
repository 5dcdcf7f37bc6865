"""#13/#14: the directory search an operator types into. The index finds exactly what a plain
scan of every unit and person finds (in the config's order, units first, at most MAX_HITS),
whatever the query: words in any case and order, digits of a number in any spacing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.config import load_config
from routing.policy import spoken_swedish
from routing.policy.calendar_referral import CalendarEntry, SyncedCalendar, calendar_referrals, merged_referrals
from routing.policy.directory import Directory
from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState
from routing.switchboard.directory_view import MAX_HITS, DirectoryIndex

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"
DIRECTORY = Directory.from_config(load_config(EXAMPLE))
INDEX = DirectoryIndex(DIRECTORY)
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def plain_scan(query: str) -> list[str]:
    """What the search must find, said as simply as possible: every unit, then every person,
    whose words contain every word of the query, or (people, 3+ digits) whose numbers contain
    its digits."""
    words, digits = query.casefold().split(), _digits(query)
    hits = [
        f"unit:{u.id}"
        for u in DIRECTORY.units.values()
        if all(w in f"{u.id} {u.name} {u.number}".casefold() for w in words)
    ]
    for p in DIRECTORY.people.values():
        unit = DIRECTORY.units[p.unit]
        text = f"{p.id} {p.name} {p.unit} {unit.name} {p.extension}".casefold()
        mobile = p.mobile or ""
        numbers = f"{p.extension} {_digits(mobile)} {_digits(spoken_swedish.national_number(mobile)) if mobile else ''}"
        if all(w in text for w in words) or (len(digits) >= 3 and digits in numbers):
            hits.append(f"person:{p.id}")
    return hits[:MAX_HITS]


def found(query: str) -> list[str]:
    return [f"{h['kind']}:{h['id']}" for h in INDEX.search(query, {}, RoutingState(), NOW)]


def test_a_name_a_unit_an_extension_and_a_mobile_in_any_spacing_are_found() -> None:
    assert found("anna") == ["person:soc1"]
    assert found("LINDQVIST anna") == ["person:soc1"]
    assert found("socialtjänsten")[0] == "unit:soc"  # the unit first, then its people
    assert found("070 123 45 67") == ["person:soc1"]  # +46701234567, as the switchboard says it
    assert found("5001") == ["person:soc1"]
    assert found("zzz") == []
    assert found("") == plain_scan("")  # everyone, up to MAX_HITS


FRAGMENTS = sorted(
    {
        word
        for text in [
            *(f"{u.id} {u.name} {u.number}" for u in DIRECTORY.units.values()),
            *(f"{p.id} {p.name} {p.extension} {p.mobile or ''}" for p in DIRECTORY.people.values()),
        ]
        for word in text.split()
    }
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(FRAGMENTS).flatmap(
                lambda w: st.tuples(st.integers(0, len(w) - 1), st.integers(1, len(w))).map(
                    lambda ij: w[ij[0] : ij[0] + ij[1]]
                )
            ),
            st.text(alphabet="aeiouåäösnl0123456789 +-", max_size=6),
        ),
        max_size=3,
    ).map(" ".join)
)
def test_the_index_finds_exactly_what_a_plain_scan_finds(query: str) -> None:
    assert found(query) == plain_scan(query)


def test_each_device_names_the_people_it_rings() -> None:
    anna = DIRECTORY.people["soc1"]
    assert "soc1" in INDEX.by_device[anna.device]
    assert sum(len(ids) for ids in INDEX.by_device.values()) == len(DIRECTORY.people)


def test_r11_r12_a_calendar_referral_is_shown_as_the_calendars_with_its_last_read_and_the_next_event() -> None:
    """#15 in the directory: Anna is in a meeting from her calendar until 11:00 (in force, from
    the calendar, read at 09:55); Erik has a private event at 10:40 (the warning says busy,
    never its subject) and a referral set by hand, which beats his calendar."""
    anna_meeting = CalendarEntry(NOW - timedelta(minutes=30), NOW + timedelta(hours=1), Reason.MEETING)
    erik_private = CalendarEntry(NOW + timedelta(minutes=40), NOW + timedelta(hours=2), Reason.OTHER, private=True)
    erik_lunch = CalendarEntry(NOW - timedelta(minutes=5), NOW + timedelta(minutes=30), Reason.LUNCH)
    read_at = NOW - timedelta(minutes=5)
    calendars = {
        "soc1": SyncedCalendar((anna_meeting,), read_at),
        "soc2": SyncedCalendar((erik_lunch, erik_private), read_at),
    }
    by_hand = Referral("soc2", Reason.SICK)
    from_calendars = calendar_referrals({p: c.entries for p, c in calendars.items()}, NOW)
    state = RoutingState(merged_referrals({"soc2": by_hand}, from_calendars, NOW))
    anna = INDEX.search("anna", {}, state, NOW, calendars)[0]
    assert anna["referral"]["reason"] == "meeting" and anna["referral"]["until"] == "2026-12-01T11:00:00+01:00"
    assert anna["calendar"] == {"synced_at": read_at.isoformat(), "in_force": True, "soon": None}
    erik = INDEX.search("erik", {}, state, NOW, calendars)[0]
    assert erik["referral"]["reason"] == "sick"  # set by hand: beats the calendar's lunch
    assert erik["calendar"]["in_force"] is False
    assert erik["calendar"]["soon"] == {"reason": "busy", "starts_at": "2026-12-01T10:40:00+01:00", "minutes": 40}
    assert INDEX.search("fatima", {}, state, NOW, calendars)[0]["calendar"] is None  # no calendar
