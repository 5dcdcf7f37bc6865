"""#14: the switchboard console in a real headless Chromium (Debian's, driven by Playwright)
against the running service and the real Asterisk: log in; a caller appears within a second;
F2 connects the operator's (sandbox) phone; the search shows a person's referral (set from
the page, R11), return time, mobile (R15) and live phone state, and a unit's telephone hours;
a call put through to a phone that does not answer is back at the top within the ring limit
+ 1 s, marked; a mobile needs the operator's confirmation (R15); two browsers answering one call,
one gets it and the other sees it gone; logout, and a restarted service, leave no call data in
the page (R12); three waiting calls, screenshotted (ROUTING_CONSOLE_SCREENSHOT=docs/console.png
keeps it) and at 200 % zoom.

Timings as test_switchboard_live.py (harness.municipality): ring limit 3 × 1 s; the operators'
phones answer after 1 s."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from routing.policy.referral import Reason, Referral
from routing.sandbox import RunningSandbox
from routing.switchboard.api import STREAM_BACKLOG, STREAM_CHECK_S
from tests.e2e.conftest import FAULT_EVENTS
from tests.e2e.harness import (
    MARGIN_S,
    PASSWORD,
    RING_LIMIT_S,
    AmiLogin,
    RunningService,
    api,
    chromium,
    started,
    switchboard_config,
)

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]
WAIT_MS = 10_000  # generous: the machine is small and others run tests too
CALLER = "0701234567"  # the harness's external caller (EXTERNAL_CALLER)


class Console:
    """One operator's browser page on the console."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.faults: list[str] = []  # script errors and CSP refusals: none is acceptable
        page.on("pageerror", lambda error: self.faults.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.faults.append(f"console: {message.text}")
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )

    async def log_in(self, operator: str) -> None:
        await self.page.goto(self.base + "/")
        await expect(self.page.locator("#login-view")).to_be_visible()
        await self.page.fill("#login-operator", operator)
        await self.page.fill("#login-password", PASSWORD)
        await self.page.press("#login-password", "Enter")
        await expect(self.page.locator("#console-view")).to_be_visible()
        await expect(self.page.locator("#who")).to_contain_text(operator)

    def row(self, call_id: str) -> Locator:
        return self.page.locator(f'#queue-list [data-call-id="{call_id}"]')

    def current(self, call_id: str) -> Locator:
        return self.page.locator(f'#current [data-call-id="{call_id}"]')

    async def search(self, text: str) -> Locator:
        await self.page.keyboard.press("F4")
        await expect(self.page.locator("#search")).to_be_focused()
        await self.page.keyboard.type(text)
        return self.page.locator("#hits [role=option]")

    async def press(self, key: str) -> None:
        await self.page.keyboard.press(key)

    async def text(self) -> str:
        return await self.page.content()


Open = Callable[[str, str], Awaitable[Console]]


@pytest.fixture
async def console() -> AsyncIterator[Open]:
    """`await console(base_url, operator)`: a logged-in page, each in a browser context of its
    own (own cookies: two operators side by side). At the end no page had a script error or a
    CSP refusal."""
    browser_path = chromium()
    opened: list[Console] = []
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=browser_path, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )

        async def open_console(base: str, operator: str) -> Console:
            context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="sv-SE")
            page = Console(await context.new_page(), base)
            opened.append(page)
            await page.log_in(operator)
            return page

        try:
            yield open_console
        finally:
            await browser.close()
    assert [fault for page in opened for fault in page.faults] == []


async def test_log_in_a_caller_appears_within_a_second_and_f2_connects_the_operators_phone(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    data = switchboard_config(tmp_path, asterisk, soc1="ring", soc1_fallback=["switchboard", "voicemail"])
    svc = await started(routing, data, ami_login)
    eva = await console(api(svc), "eva")
    await expect(eva.page.locator("#keys-heading")).to_have_text("Kortkommandon")  # the shortcuts are shown

    call = await svc.call("5001")  # Anna does not answer: her chain's next step is the switchboard
    entered = await call.wait_app("Stasis", timeout=RING_LIMIT_S + 10)
    row = eva.row(call.call_id)
    await expect(row).to_be_visible(timeout=WAIT_MS)
    assert time.monotonic() - entered.at < 1.0 + MARGIN_S  # on screen within 1 s
    await expect(row).to_contain_text(CALLER)  # R12: the logged-in operator sees the number
    await expect(row).to_contain_text("Anna (5001): inget svar efter 3 signaler")  # what happened before
    await expect(row.locator(".badge")).to_have_text("Väntar")
    waited = row.locator(".waited .tick")
    before = await waited.inner_text()
    await expect(waited).not_to_have_text(before, timeout=3000)  # the wait counts on in the page
    await expect(eva.page.locator("#announce")).to_contain_text("Nytt samtal")  # aria-live, for a screen reader

    await eva.press("F2")
    dial = await call.wait_dial("answer1-eva")
    assert dial["DialString"] == "answer1-eva@sandbox-phones"
    current = eva.current(call.call_id)
    await expect(current).to_contain_text("Pågår", timeout=WAIT_MS)  # connected: her phone answered
    await expect(current).to_contain_text(CALLER)
    await expect(row).to_have_count(0)  # her call now, no longer in the queue
    answered = await svc.log.wait_for(call.call_id, "call.answered")
    assert answered["by"] == "operator:eva"

    await eva.press("F8")  # hold: back in the queue, hers, with the time until it is recalled
    await expect(row).to_contain_text("Parkerad av eva", timeout=WAIT_MS)
    await expect(row).to_contain_text("tillbaka om")
    await expect(current).to_have_count(0)
    await eva.press("F2")  # she takes it back before the recall
    await expect(current).to_contain_text("Pågår", timeout=WAIT_MS)
    assert [r["place"] for r in svc.log.for_call(call.call_id, "switchboard.answered")] == ["waiting", "held"]

    await eva.press("Alt+L")
    end = await svc.log.wait_end(call.call_id, timeout=10)
    assert (end["outcome"], end["by"]) == ("answered", "operator:eva")
    await expect(current).to_have_count(0, timeout=WAIT_MS)
    await expect(eva.page.locator("#current")).to_contain_text("Inget pågående samtal")


async def test_r11_r15_search_shows_a_referral_set_from_the_page_with_return_and_mobile_and_live_phone_state(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    data = switchboard_config(tmp_path, asterisk, soc2="ring")
    svc = await started(routing, data, ami_login)
    eva = await console(api(svc), "eva")

    hits = await eva.search("Anna")
    await expect(hits).to_have_count(1, timeout=WAIT_MS)
    anna = hits.first
    await expect(anna).to_contain_text("mobil 0701234567")  # R15: always at hand
    await expect(anna).to_contain_text("passning 5002")
    await expect(anna).not_to_contain_text("hänvisning")

    await eva.press("Alt+H")  # a referral on Anna's behalf (R11)
    dialog = eva.page.locator("#referral-dialog")
    await expect(dialog).to_be_visible()
    await expect(eva.page.locator("#referral-reason")).to_be_focused()
    await eva.page.select_option("#referral-reason", "meeting")
    await eva.page.fill("#referral-until", "25:99")
    await eva.page.press("#referral-until", "Enter")
    await expect(eva.page.locator("#referral-message")).to_contain_text("Ogiltig")  # refused, the dialog stays
    await eva.page.fill("#referral-until", "13:00")
    await eva.page.press("#referral-until", "Enter")
    await expect(dialog).to_be_hidden()
    await expect(anna).to_contain_text("hänvisning: möte, tillbaka klockan 13", timeout=WAIT_MS)
    await expect(anna).to_contain_text("mobil 0701234567")
    set_by = [r for r in svc.log.records() if r.get("event") == "operator.referral_set"]
    assert [(r["operator"], r["person"], r["reason"]) for r in set_by] == [("eva", "soc1", "meeting")]

    await eva.page.fill("#search", "")
    await eva.search("Soc")
    unit = eva.page.locator("#hits .hit-unit")
    await expect(unit).to_contain_text("telefontid öppen nu", timeout=WAIT_MS)  # Tuesday 10:15
    await expect(unit).to_contain_text("måndag till fredag klockan 9 till 11")
    await expect(unit).to_contain_text("jourtelefon 5099")
    erik = eva.page.locator('#hits [data-id="soc2"]')
    await expect(erik).to_be_visible()
    await expect(erik.locator(".state")).not_to_have_text(re.compile("ringer|i samtal"))
    # Erik's phone starts ringing, as AMI reports it to the service (DeviceStates, the entry
    # point of AMI's DeviceStateChange). Not from a real call: seen here, a real call rang
    # Erik's sandbox phone (a Local channel) and Asterisk sent no DeviceStateChange for it, in
    # 1 of 3 runs (a sandbox quirk, not the page's); AMI's side is in test_switchboard_api.py.
    changed_at = time.monotonic()
    svc.service.device_states.update(data["people"][1]["device"], "RINGING")
    await expect(erik.locator(".state")).to_have_text("ringer", timeout=WAIT_MS)
    assert time.monotonic() - changed_at < 1.0 + MARGIN_S  # live, without a new search


async def test_r1_a_call_put_through_to_a_phone_nobody_answers_is_back_at_the_top_marked_within_the_ring_limit(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    data = switchboard_config(tmp_path, asterisk, soc1="ring")
    svc = await started(routing, data, ami_login)
    eva = await console(api(svc), "eva")
    call = await svc.call("9000")
    await expect(eva.row(call.call_id)).to_be_visible(timeout=WAIT_MS)
    await eva.press("F2")
    await expect(eva.current(call.call_id)).to_contain_text("Pågår", timeout=WAIT_MS)
    later = await svc.call("9000")  # waiting meanwhile: the returned call must come first
    await expect(eva.row(later.call_id)).to_be_visible(timeout=WAIT_MS)

    hits = await eva.search("Anna")
    await expect(hits).to_have_count(1, timeout=WAIT_MS)
    await eva.press("F9")
    sent = time.monotonic()
    row = eva.row(call.call_id)
    await expect(row).to_contain_text("Kopplas till Anna (5001)", timeout=WAIT_MS)
    await expect(row).to_contain_text("kvar av ringtiden")  # the countdown to the ring limit
    await expect(eva.page.locator("#message")).to_contain_text("ringer i högst 3 s")

    first = eva.page.locator("#queue-list > li").first
    await expect(first).to_have_attribute("data-call-id", call.call_id, timeout=(RING_LIMIT_S + 10) * 1000)
    await expect(first.locator(".badge")).to_have_text("Återfall")
    assert time.monotonic() - sent < RING_LIMIT_S + 1.0 + MARGIN_S
    await expect(first).to_contain_text("Tillbaka från Anna (5001): svarar inte")
    await expect(first).to_contain_text("mobil 0701234567")  # R15: what the operator tells the caller
    await expect(first).to_contain_text("passning 5002")
    await expect(eva.page.locator("#queue-list > li").nth(1)).to_have_attribute("data-call-id", later.call_id)
    await expect(eva.page.locator("#announce")).to_contain_text("Återfall")

    await eva.press("F2")  # back to her (återfall first), then to Anna's mailbox
    await expect(eva.current(call.call_id)).to_contain_text("Pågår", timeout=WAIT_MS)
    await expect(eva.current(call.call_id)).to_contain_text("Tillbaka från Anna (5001): svarar inte")
    await eva.press("Shift+F9")
    await call.wait_app("VoiceMail", data_contains="5001")
    await expect(eva.page.locator("#message")).to_contain_text("röstbrevlådan")
    await expect(eva.current(call.call_id)).to_have_count(0, timeout=WAIT_MS)
    await expect(eva.row(call.call_id)).to_have_count(0)
    for each in (call, later):
        await each.hang_up()
        await svc.log.wait_end(each.call_id, timeout=10)
    await expect(eva.page.locator("#queue-list > li")).to_have_count(0, timeout=WAIT_MS)


async def test_r15_a_transfer_to_a_mobile_asks_the_operator_to_confirm(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    data = switchboard_config(tmp_path, asterisk)
    data["outbound"] = {"trunk": "Local/answer1-{number}@sandbox-phones", "barred_prefixes": ["0900"]}
    svc = await started(routing, data, ami_login)
    eva = await console(api(svc), "eva")
    call = await svc.call("9000")
    await expect(eva.row(call.call_id)).to_be_visible(timeout=WAIT_MS)
    await eva.press("F2")
    await expect(eva.current(call.call_id)).to_contain_text("Pågår", timeout=WAIT_MS)
    hits = await eva.search("Anna")
    await expect(hits).to_have_count(1, timeout=WAIT_MS)

    dialog = eva.page.locator("#confirm-dialog")
    await eva.press("Alt+M")
    await expect(dialog).to_be_visible(timeout=WAIT_MS)
    await expect(dialog).to_contain_text("R15")
    await eva.press("Escape")  # not this time
    await expect(dialog).to_be_hidden()
    await expect(eva.page.locator("#message")).to_contain_text("Inte kopplat")
    await expect(eva.current(call.call_id)).to_contain_text("Pågår")  # nothing moved

    await eva.press("Alt+M")
    await expect(dialog).to_be_visible(timeout=WAIT_MS)
    await eva.page.click("#confirm-yes")
    await call.wait_dial("answer1-+46701234567")
    await svc.log.wait_for(call.call_id, "switchboard.put_through")  # the mobile answered
    await expect(eva.page.locator("#message")).to_contain_text("Samtalet till Anna", timeout=WAIT_MS)
    await expect(eva.row(call.call_id)).to_have_count(0)
    transfer = await svc.log.wait_for(call.call_id, "switchboard.transfer")
    assert (transfer["kind"], transfer["mobile_cost"]) == ("mobile", True)
    await call.hang_up()
    await svc.log.wait_end(call.call_id, timeout=10)


async def test_r4_callbacks_called_back_and_marked_done_from_the_page_by_keyboard(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    """Alt+U, then Tab to a callback's buttons: "Ring upp" rings the operator's phone, then the
    caller (the trunk), and the outcome arrives on the stream; "Klar" marks the other done."""
    data = switchboard_config(tmp_path, asterisk)
    data["outbound"] = {"trunk": "Local/answer1-{number}@sandbox-phones"}
    svc = await started(routing, data, ami_login)
    first = svc.store.add_callback(call_id="c1", caller="0701234567", target="soc1", at=svc.clock())
    second = svc.store.add_callback(call_id="c2", caller="0709999999", target="soc", at=svc.clock())
    eva = await console(api(svc), "eva")
    items = eva.page.locator("#callbacks > li")
    await expect(items).to_have_count(2, timeout=WAIT_MS)
    await expect(eva.page.locator("#callbacks-count")).to_have_text("(2 öppna)")

    await eva.press("Alt+U")
    await expect(eva.page.locator("#callbacks-heading")).to_be_focused()
    await eva.press("Tab")  # Uppdatera
    await eva.press("Tab")  # the first callback's "Ring upp"
    focused = eva.page.locator(f'#callbacks [data-callback-id="{first}"] button[data-action="call"]')
    await expect(focused).to_be_focused()
    await eva.press("Enter")
    message = eva.page.locator("#message")
    await expect(message).to_contain_text("Din telefon ringer")
    await expect(message).to_contain_text("svarade: klar", timeout=(RING_LIMIT_S + 30) * 1000)
    await expect(eva.page.locator(f'#callbacks [data-callback-id="{first}"]')).to_have_count(0, timeout=WAIT_MS)
    done = svc.store.callback(first)
    assert done is not None and (done.status, done.done_by) == ("done", "operator:eva")

    await eva.page.click(f'#callbacks [data-callback-id="{second}"] button[data-action="done"]')
    await expect(items).to_have_count(0, timeout=WAIT_MS)
    await expect(eva.page.locator("#callbacks-empty")).to_be_visible()
    other = svc.store.callback(second)
    assert other is not None and (other.status, other.done_by) == ("done", "operator:eva")


async def test_two_browsers_answer_one_call_one_is_connected_the_other_sees_it_gone(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    data = switchboard_config(tmp_path, asterisk, operators=("eva", "olle"))
    svc = await started(routing, data, ami_login)
    eva, olle = await console(api(svc), "eva"), await console(api(svc), "olle")
    call = await svc.call("9000")
    for page in (eva, olle):
        await expect(page.row(call.call_id)).to_be_visible(timeout=WAIT_MS)

    await asyncio.gather(eva.press("F2"), olle.press("F2"))
    answered = await svc.log.wait_for(call.call_id, "switchboard.answered")
    winner, loser = (eva, olle) if answered["operator"] == "eva" else (olle, eva)
    await call.wait_dial(f"answer1-{answered['operator']}")
    await expect(winner.current(call.call_id)).to_contain_text("Pågår", timeout=WAIT_MS)
    await expect(loser.row(call.call_id)).to_have_count(0, timeout=WAIT_MS)  # gone from the other's queue
    await expect(loser.current(call.call_id)).to_have_count(0)
    assert len(svc.log.for_call(call.call_id, "switchboard.answered")) == 1
    assert [d.dest_channel.split("@")[0] for d in call.dials()] == [f"Local/answer1-{answered['operator']}"]
    await call.hang_up()
    await svc.log.wait_end(call.call_id, timeout=10)


async def test_r12_logout_and_a_restarted_service_leave_no_call_data_in_the_page(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    data = switchboard_config(tmp_path, asterisk)
    svc = await started(routing, data, ami_login)
    svc.store.add_callback(call_id="c1", caller="0709999999", target="soc1", at=svc.clock() - timedelta(minutes=20))
    eva = await console(api(svc), "eva")
    call = await svc.call("9000")
    await expect(eva.row(call.call_id)).to_be_visible(timeout=WAIT_MS)
    await eva.search("Anna")
    await expect(eva.page.locator("#hits")).to_contain_text("0701234567", timeout=WAIT_MS)
    await expect(eva.page.locator("#callbacks")).to_contain_text("0709999999")

    await eva.page.click("#logout")
    await expect(eva.page.locator("#login-view")).to_be_visible()
    await expect(eva.page.locator("#login-message")).to_have_text("Du har loggat ut.")
    await _no_call_data(eva, call.call_id)
    assert await eva.page.evaluate("fetch('/api/calls').then(r => r.status)") == 401
    another = await svc.call("9000")  # the stream is closed: nothing reaches the page any more
    await another.wait_app("Stasis")
    await asyncio.sleep(1.5)
    await _no_call_data(eva, another.call_id)

    # The service restarts (its sessions are gone): the page says so, then asks for a login.
    await eva.log_in("eva")
    await expect(eva.row(call.call_id)).to_be_visible(timeout=WAIT_MS)
    await svc.stop()
    await expect(eva.page.locator("#connection")).to_contain_text("bröts", timeout=WAIT_MS)
    await started(routing, data, ami_login)
    await expect(eva.page.locator("#login-view")).to_be_visible(timeout=WAIT_MS * 2)
    await expect(eva.page.locator("#login-message")).to_contain_text("startats om")
    await _no_call_data(eva, call.call_id)
    for each in (call, another):
        await each.hang_up()


async def test_r12_a_session_that_ends_by_itself_leaves_no_call_data_in_the_page(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    """The session idles out (`switchboard.session_idle_minutes`, shortened here on the running
    service): the stream closes with 4001 at its next check and the page clears itself."""
    data = switchboard_config(tmp_path, asterisk)
    svc = await started(routing, data, ami_login)
    eva = await console(api(svc), "eva")
    call = await svc.call("9000")
    await expect(eva.row(call.call_id)).to_be_visible(timeout=WAIT_MS)
    assert svc.service.switchboard is not None
    svc.service.switchboard.sessions.idle = timedelta(seconds=1)
    await expect(eva.page.locator("#login-view")).to_be_visible(timeout=(STREAM_CHECK_S + 10) * 1000)
    await expect(eva.page.locator("#login-message")).to_contain_text("Sessionen har upphört")
    await _no_call_data(eva, call.call_id)
    await call.hang_up()
    await svc.log.wait_end(call.call_id, timeout=10)


async def test_a_stream_the_service_drops_is_reconnected_by_the_page_without_a_new_login(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    """The service closes a stream that falls behind (more than its backlog of messages at
    once); the session still stands, so the page says so, connects again and stays logged in."""
    data = switchboard_config(tmp_path, asterisk)
    svc = await started(routing, data, ami_login)
    eva = await console(api(svc), "eva")
    switchboard = svc.service.switchboard
    assert switchboard is not None
    opened: list[Any] = []
    eva.page.on("websocket", lambda socket: opened.append(socket))
    for _ in range(STREAM_BACKLOG + 1):  # in one turn of the loop: the stream cannot keep up
        switchboard.referral_changed("soc2", None, "e2e")
    deadline = time.monotonic() + WAIT_MS / 1000
    while not opened:  # the page opened a new stream (too fast to catch its notice on screen)
        assert time.monotonic() < deadline, "the page did not connect again"
        await asyncio.sleep(0.05)
    await expect(eva.page.locator("#connection")).to_have_text(re.compile("bröts"))  # it said so
    await expect(eva.page.locator("#connection")).to_be_hidden(timeout=WAIT_MS)  # connected again
    await expect(eva.page.locator("#console-view")).to_be_visible()
    call = await svc.call("9000")  # and the page is live again
    await expect(eva.row(call.call_id)).to_be_visible(timeout=WAIT_MS)
    await call.hang_up()
    await svc.log.wait_end(call.call_id, timeout=10)


async def _no_call_data(page: Console, call_id: str) -> None:
    html = await page.text()
    for secret in (CALLER, "0709999999", call_id, "Anna"):
        assert secret not in html, secret
    await expect(page.page.locator("#console-view")).to_be_hidden()


@pytest.mark.faults_expected  # the overdue callback is an R4 violation: the only fault allowed (checked below)
async def test_three_waiting_calls_on_screen_and_at_200_percent_zoom(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, console: Open
) -> None:
    """The page as an operator sees it (the README's screenshot): one call of hers, three
    waiting, a search, open callbacks. At 200 % zoom (half the CSS width) nothing needs a
    sideways scroll and the calls come first."""
    data = switchboard_config(tmp_path, asterisk)
    svc = await started(routing, data, ami_login)
    now = svc.clock()
    svc.store.set_referral(Referral("soc1", Reason.MEETING, now.replace(hour=13, minute=0)), at=now, by="e2e")
    svc.store.add_callback(call_id="c1", caller="0709876543", target="soc1", at=now - timedelta(hours=28))
    svc.store.add_callback(call_id="c2", caller="031123456", target="soc", at=now - timedelta(minutes=25))
    eva = await console(api(svc), "eva")

    talking = await svc.call("9000", caller="0812345678", name="Kund")
    await expect(eva.row(talking.call_id)).to_be_visible(timeout=WAIT_MS)
    await eva.press("F2")
    await expect(eva.current(talking.call_id)).to_contain_text("Pågår", timeout=WAIT_MS)
    waiting: list[Any] = []
    for caller in ("0701234567", "0854321000", "0733334444"):
        waiting.append(await svc.call("9000", caller=caller))
        await expect(eva.row(waiting[-1].call_id)).to_be_visible(timeout=WAIT_MS)
        await asyncio.sleep(1)
    await eva.search("soc")
    await expect(eva.page.locator("#hits [role=option]")).to_have_count(3, timeout=WAIT_MS)
    await eva.press("ArrowDown")
    await expect(eva.page.locator("#queue-list > li")).to_have_count(3)
    await expect(eva.page.locator("#queue-count")).to_have_text("(3 väntar)")
    overdue = eva.page.locator("#callbacks .overdue")  # R4: the old one marked, the new one not
    await expect(overdue).to_have_count(1)
    await expect(overdue).to_contain_text("0709876543")
    await expect(overdue.locator(".badge")).to_have_text("Försenad")
    await expect(eva.page.locator("#callbacks-count")).to_have_text("(2 öppna, 1 försenade)")

    unnamed = await eva.page.evaluate(
        """[...document.querySelectorAll('#console-view button, #console-view input, #console-view select')]
            .filter(e => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
            .map(e => e.outerHTML)"""
    )
    assert unnamed == []  # every control has a name a screen reader can say
    landmarks = await eva.page.evaluate(
        "[...document.querySelectorAll('header, main, section[aria-labelledby], aside')].map(e => e.tagName)"
    )
    assert landmarks.count("SECTION") >= 4 and "MAIN" in landmarks and "HEADER" in landmarks

    shot = tmp_path / "console.png"
    await eva.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 30_000  # a full page, not a blank one
    if target := os.environ.get("ROUTING_CONSOLE_SCREENSHOT"):
        shutil.copyfile(shot, target)

    await eva.page.set_viewport_size({"width": 640, "height": 800})  # 1280 px at 200 %
    widths = await eva.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    order = await eva.page.evaluate(
        "['current', 'queue-list', 'search', 'callbacks'].map(id => document.getElementById(id)"
        ".getBoundingClientRect().top)"
    )
    assert order == sorted(order), order  # one column: the call, the queue, the search, the callbacks
    await eva.page.screenshot(path=str(tmp_path / "console-200.png"), full_page=True)

    for each in (talking, *waiting):
        await each.hang_up()
        await svc.log.wait_end(each.call_id, timeout=10)
    faults = [r for r in svc.log.records() if r.get("event") in FAULT_EVENTS and r.get("rule") != "R4"]
    assert faults == []
