"""#15 end to end: a call to a person during a meeting in their calendar (an Outlook-style
feed, read by the service's own sync round) hears the referral with the meeting's end time
(R11, R15), the person's phone never rings, and the cover position answers (R2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from routing.policy.call import Call
from routing.policy.planner import plan_call
from routing.policy.steps import Message, StepKind
from tests.e2e.harness import RunningService, assert_valid_prompt, finish, municipality, prompt_path, stockholm

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]

# The harness's clock starts on Tuesday 1 December 2026 at 10:15: the budget meeting runs
# 10:00–11:30 in Outlook's Windows zone name; a private appointment follows at 13:00.
FEED = (
    "BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nVERSION:2.0\r\n"
    "BEGIN:VEVENT\r\nUID:e2e-meeting\r\nDTSTART;TZID=W. Europe Standard Time:20261201T100000\r\n"
    "DTEND;TZID=W. Europe Standard Time:20261201T113000\r\nSUMMARY:Möte: budget 2027\r\n"
    "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:e2e-private\r\nDTSTART;TZID=W. Europe Standard Time:20261201T130000\r\n"
    "DTEND;TZID=W. Europe Standard Time:20261201T140000\r\nSUMMARY:Läkare\r\nCLASS:PRIVATE\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


async def test_r11_a_call_during_a_calendar_meeting_hears_its_end_and_the_phone_does_not_ring(
    routing: Routing, tmp_path: Path
) -> None:
    feed = tmp_path / "anna.ics"
    feed.write_text(FEED, encoding="utf-8")
    data = municipality(soc1="ring", soc2="answer1")
    next(p for p in data["people"] if p["id"] == "soc1")["calendar"] = str(feed)
    svc = await routing(data)
    await svc.service.calendar_sync.sync_once()  # the round the service started runs too; this one is awaited

    call = await svc.call("5001")
    playback = await call.wait_app("Playback")
    await svc.log.wait_for(call.call_id, "call.answered", timeout=20)
    await call.hang_up()
    await finish(svc, call, "cover", by="soc2")

    assert call.dialled() == ["answer1-soc2@sandbox-phones"]  # Anna's phone never rang (R11)
    referral = svc.log.one(call.call_id, "call.referral")
    assert (referral["person"], referral["reason"]) == ("soc1", "meeting")
    assert referral["until"] == stockholm("2026-12-01 11:30").isoformat()
    assert_valid_prompt(playback["AppData"])
    plan = plan_call(
        svc.service.router.directory,
        svc.service.referrals.snapshot(),
        Call("5001", "0701234567", False, svc.clock()),
    )
    (message,) = [s for s in plan.steps if isinstance(s, Message) and s.kind is StepKind.REFERRAL]
    assert "Anna sitter i möte och är tillbaka klockan 11.30." in message.text
    assert "budget" not in message.text  # the subject is not read to callers
    assert await prompt_path(message.text) == playback["AppData"]  # what the caller heard
    assert svc.store.calendars()["soc1"].entries[0].reason.value == "meeting"  # for the commands
