"""The switchboard's HTTP API (#13), JSON on the service's own event loop (aiohttp), bound to
`switchboard.listen` (127.0.0.1 by default). Every route but login needs a logged-in operator
(R12: only the switchboard sees callers' numbers); every change also needs the session's CSRF
token in `X-CSRF-Token` and, if the browser sends one, an `Origin` of this server; every
operator action is logged with the operator's id.

    POST   /api/login               {"operator", "password"} → {"operator", "name", "csrf", "expires_at"}
    POST   /api/logout
    GET    /api/me
    GET    /api/directory?q=TEXT     people and units (phone state, referral, mobile, cover; hours)
    PUT    /api/referrals/{person}   {"reason", "until"?: "HH:MM" | "YYYY-MM-DD"}  (R11, on behalf)
    DELETE /api/referrals/{person}
    GET    /api/callbacks[?open=1]   (R4) with the caller's number, age and whether overdue
    POST   /api/callbacks/{id}/done
    POST   /api/callbacks/{id}/call  202: the operator's phone rings, then the caller's; the outcome on the stream
    GET    /api/calls                the queue: waiting, returned, held, offered, talking, transferring
    POST   /api/calls/{id}/answer    the operator's phone rings with the caller (R1: the ring limit)
    POST   /api/calls/{id}/transfer  {"to", "voicemail"?, "mobile"?, "confirm"?} (R1, R15, R18, R20)
    POST   /api/calls/{id}/hold      recalled to the operator after switchboard.hold_recall_s
    POST   /api/calls/{id}/hangup
    GET    /api/stream               WebSocket: the queue, phone states, referrals and callback calls as they change
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from routing.ami.client import AmiClient, AmiError
from routing.calllog.events import LogId
from routing.config.schema import Operator
from routing.policy.calendar_referral import SyncedCalendar
from routing.policy.directory import Directory
from routing.policy.followup import OpenCallback, overdue_callbacks
from routing.policy.referral import Referral, parse_reason, parse_until
from routing.policy.switchboard_queue import QueueError
from routing.policy.transfer import TransferRefused
from routing.service.callback_call import call_back
from routing.service.referrals import ReferralSource
from routing.store.base import Callback, Store, StoreError
from routing.store.io import store_io
from routing.switchboard.accounts import AccountsError, read_accounts, verify
from routing.switchboard.console import add_console, is_console_path
from routing.switchboard.directory_view import STATE_WORDS, DirectoryIndex
from routing.switchboard.queue_view import call_entry
from routing.switchboard.sessions import Session, Sessions

if TYPE_CHECKING:
    from routing.switchboard.live_calls import LiveCalls

log = structlog.get_logger("routing.switchboard")

COOKIE = "routing_session"
STREAM_CHECK_S = 15.0  # a stream checks its session (and pings) this often
STREAM_BACKLOG = 1000
STREAM_SESSION_ENDED = 4001  # the stream's close codes: log in again
STREAM_FELL_BEHIND = 4002  # the page did not keep up (STREAM_BACKLOG messages): connect again
_FELL_BEHIND: dict[str, Any] = {"type": "fell_behind"}  # in a stream's queue: close it with STREAM_FELL_BEHIND
# While a page is open, the referrals in force are read this often, so one set or cleared
# elsewhere (`routing referral`, another instance) or ended by itself reaches the page too.
REFERRAL_POLL_S = 1.0
SESSION = web.RequestKey("session", Session)  # the request's operator, set by the guard
# Open: logging in, and whether this instance is the active one (#17, for a proxy in front of
# two instances: it holds no call data).
_OPEN_ROUTES = {("POST", "/api/login"), ("GET", "/api/active")}


def _json_error(status: type[web.HTTPException], message: str, **extra: object) -> web.HTTPException:
    return status(text=json.dumps({"error": message, **extra}), content_type="application/json")


_STATUS: dict[int, type[web.HTTPException]] = {
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    503: web.HTTPServiceUnavailable,
}


class SwitchboardApi:
    def __init__(
        self,
        directory: Callable[[], Directory],
        store: Store,
        states: Callable[[], dict[str, str]],
        clock: Callable[[], datetime],
        on_state_change: Callable[[Callable[[str, str], None]], None] | None = None,
        live: LiveCalls | None = None,
        ami: Callable[[], AmiClient | None] = lambda: None,
        referrals: ReferralSource | None = None,
        calendars: Callable[[], Mapping[str, SyncedCalendar]] = dict,
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        """`on_state_change(listener)`: have `listener(device, state)` called at each change
        Asterisk reports (DeviceStates.listen), for the live stream; `ami()`: the service's AMI
        link while it is logged in (callback calls), else None; `referrals`: the referrals in
        force as calls see them (the store's, with people's calendars under them, #15; default
        the store's); `calendars()`: each person's calendar as last read, still in use;
        `active()`: whether this instance serves the switchboard's queue (holds the active
        lease, #17)."""
        self._active = active
        self._directory = directory
        self._store = store
        self._states = states
        self._clock = clock
        self._live = live
        self._referrals: ReferralSource = referrals if referrals is not None else store
        self._calendars = calendars
        self._ami = ami
        self._calling: dict[int, asyncio.Task[None]] = {}  # callback calls in progress, by callback id
        self._referrals_seen: dict[str, str] | None = None  # person → reason in force, as the streams were told
        self._referral_watch: asyncio.Task[None] | None = None
        self._directory_index: DirectoryIndex | None = None
        self._referral_pushes = 0  # referrals pushed at once: a watch's read from before one is stale
        self._calls_task: asyncio.Task[None] | None = None
        config = directory().config.switchboard
        self.sessions = Sessions(
            clock, idle=timedelta(minutes=config.session_idle_minutes), longest=timedelta(hours=config.session_hours)
        )
        self.app = web.Application(middlewares=[self._guard])
        self.app.router.add_post("/api/login", self._login)
        self.app.router.add_post("/api/logout", self._logout)
        self.app.router.add_get("/api/me", self._me)
        self.app.router.add_get("/api/active", self._active_check)
        self.app.router.add_get("/api/directory", self._search)
        self.app.router.add_put("/api/referrals/{person}", self._set_referral)
        self.app.router.add_delete("/api/referrals/{person}", self._clear_referral)
        self.app.router.add_get("/api/callbacks", self._callbacks)
        self.app.router.add_post("/api/callbacks/{id}/done", self._callback_done)
        self.app.router.add_post("/api/callbacks/{id}/call", self._callback_call)
        self.app.router.add_get("/api/calls", self._calls)
        self.app.router.add_post("/api/calls/{id}/answer", self._answer)
        self.app.router.add_post("/api/calls/{id}/transfer", self._transfer)
        self.app.router.add_post("/api/calls/{id}/hold", self._hold)
        self.app.router.add_post("/api/calls/{id}/hangup", self._hang_up)
        self.app.router.add_get("/api/stream", self._stream)
        add_console(self.app)  # the operators' page (#14)
        self._streams: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = {}  # by session token
        if on_state_change is not None:
            on_state_change(self._phone_state_changed)
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        self.address: tuple[str, int] | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        bound = self._runner.addresses[0]
        self.address = (str(bound[0]), int(bound[1]))
        log.info(LogId.SWITCHBOARD_SERVING, host=self.address[0], port=self.address[1])
        return self.address

    async def stop(self) -> None:
        for task in [*self._calling.values(), self._referral_watch]:
            if task is not None:
                task.cancel()
        await self._runner.cleanup()

    # -- who may ask ------------------------------------------------------------------------------

    def _operator(self, operator_id: str) -> Operator | None:
        return next((o for o in self._directory().config.switchboard.operators if o.id == operator_id), None)

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if (request.method, request.path) in _OPEN_ROUTES:
            self._same_origin(request)
            return await handler(request)
        if request.method in ("GET", "HEAD") and is_console_path(request.path):
            return await handler(request)  # the page's own files: no call data in them
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            log.info(LogId.OPERATOR_REFUSED, path=request.path, why="no live session")
            raise _json_error(web.HTTPUnauthorized, "log in first")
        if request.method not in ("GET", "HEAD"):
            self._same_origin(request)
            if not self.sessions.csrf_ok(session, request.headers.get("X-CSRF-Token")):
                log.warning(LogId.OPERATOR_REFUSED, operator=session.operator, path=request.path, why="no CSRF token")
                raise _json_error(web.HTTPForbidden, "the request lacks this session's X-CSRF-Token")
        request[SESSION] = session
        response = await handler(request)
        if not response.prepared:  # caller numbers (R12): no copy kept by a browser or a proxy
            response.headers["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _same_origin(request: web.Request) -> None:
        """A browser names the page a request comes from: another site's is refused. The host is
        compared, not the scheme: behind a TLS proxy the page is https and this server http."""
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            log.warning(LogId.OPERATOR_REFUSED, path=request.path, why="cross-site request", origin=origin)
            raise _json_error(web.HTTPForbidden, "a request from another site")

    # -- login ------------------------------------------------------------------------------------

    async def _login(self, request: web.Request) -> web.Response:
        body = await _body(request)
        operator_id, password = str(body.get("operator", "")), str(body.get("password", ""))
        operator = self._operator(operator_id)
        if self.sessions.locked(operator_id):
            log.warning(LogId.OPERATOR_LOGIN_FAILED, operator=operator_id, why="too many wrong passwords")
            raise _json_error(web.HTTPTooManyRequests, "too many wrong passwords: wait five minutes")
        path = Path(self._directory().config.switchboard.accounts_file)
        try:
            accounts = await asyncio.to_thread(read_accounts, path)
        except AccountsError as exc:
            log.error(exc.log_id, error=str(exc))
            raise _json_error(web.HTTPServiceUnavailable, "the operators' accounts cannot be read") from exc
        # argon2 takes tens of milliseconds: off the loop, where calls are answered.
        right = await asyncio.to_thread(verify, accounts, operator_id, password)
        if operator is None or not right:
            self.sessions.failed(operator_id)
            log.warning(LogId.OPERATOR_LOGIN_FAILED, operator=operator_id, why="unknown operator or wrong password")
            raise _json_error(web.HTTPUnauthorized, "unknown operator or wrong password")
        session = self.sessions.start(operator.id)
        log.info(LogId.OPERATOR_LOGIN, operator=operator.id)
        response = web.json_response(self._me_of(session))
        # Secure when the browser's page is https (directly, or through a TLS proxy that says so).
        secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="Strict", path="/", secure=secure)
        return response

    async def _logout(self, request: web.Request) -> web.Response:
        session = request[SESSION]
        self.sessions.end(session.token)
        for queue in self._streams.get(session.token, set()):
            queue.put_nowait(None)  # its streams close now, not at their next check
        log.info(LogId.OPERATOR_LOGOUT, operator=session.operator)
        response = web.Response(status=204)
        response.del_cookie(COOKIE, path="/")
        return response

    def _me_of(self, session: Session) -> dict[str, Any]:
        operator = self._operator(session.operator)
        return {
            "operator": session.operator,
            "name": operator.name if operator else session.operator,
            "csrf": session.csrf,
            "expires_at": self.sessions.expires_at(session).isoformat(),
        }

    async def _active_check(self, _request: web.Request) -> web.Response:
        """200 on the instance that serves the switchboard's queue, 503 on one standing by: a
        proxy in front of two instances (its health check) sends the operators' console to the
        active one, and after a failover to the new one (#17)."""
        active = self._active()
        return web.json_response({"active": active}, status=200 if active else 503)

    async def _me(self, request: web.Request) -> web.Response:
        return web.json_response(self._me_of(request[SESSION]))

    # -- the directory, referrals on behalf (R11), callbacks (R4) ---------------------------------

    def _index(self) -> DirectoryIndex:
        """The directory's search index, made anew only when a reload changed the directory."""
        directory = self._directory()
        if self._directory_index is None or self._directory_index.directory is not directory:
            self._directory_index = DirectoryIndex(directory)
        return self._directory_index

    async def _search(self, request: web.Request) -> web.Response:
        referrals = await store_io(self._referrals, self._referrals.snapshot)
        hits = self._index().search(
            request.query.get("q", ""), self._states(), referrals, self._clock(), self._calendars()
        )
        return web.json_response({"hits": hits})

    async def _set_referral(self, request: web.Request) -> web.Response:
        session = request[SESSION]
        person = request.match_info["person"]
        if person not in self._directory().people:
            raise _json_error(web.HTTPNotFound, f"no person has the id '{person}'")
        body = await _body(request)
        now = self._clock()
        try:
            reason = parse_reason(str(body.get("reason", "")))
            until = _until(body.get("until"), now)
        except ValueError as exc:
            raise _json_error(web.HTTPBadRequest, str(exc).replace('"', "'")) from exc
        referral = Referral(person, reason, until)
        by = f"operator:{session.operator}"
        await self._write(partial(self._store.set_referral, referral, at=now, by=by))
        log.info(LogId.OPERATOR_REFERRAL_SET, operator=session.operator, person=person, reason=reason.value)
        self.referral_changed(person, reason.value, by)
        return web.json_response({"person": person, "reason": reason.value, "set_by": by})

    async def _clear_referral(self, request: web.Request) -> web.Response:
        session = request[SESSION]
        person = request.match_info["person"]
        if person not in self._directory().people:
            raise _json_error(web.HTTPNotFound, f"no person has the id '{person}'")
        cleared = await self._write(partial(self._store.clear_referral, person))
        log.info(LogId.OPERATOR_REFERRAL_CLEARED, operator=session.operator, person=person, had_one=cleared)
        self.referral_changed(person, None, f"operator:{session.operator}")
        return web.json_response({"person": person, "cleared": cleared})

    async def _callbacks(self, request: web.Request) -> web.Response:
        directory = self._directory()
        now = self._clock()
        found = await store_io(self._store, partial(self._store.callbacks, only_open=request.query.get("open") == "1"))
        open_ones = [OpenCallback(c.id, c.target, c.requested_at) for c in found if c.status == "open"]
        late = {o.id for o in overdue_callbacks(directory, open_ones, now)} | {
            c.id for c in found if c.overdue_at is not None
        }
        return web.json_response(
            {
                "callbacks": [
                    {
                        "id": c.id,
                        "caller": c.caller,  # R12: only a logged-in operator gets here
                        "target": c.target,
                        "requested_at": c.requested_at.isoformat(),
                        "age_minutes": round((now - c.requested_at).total_seconds() / 60),
                        "status": c.status,
                        "attempts": c.attempts,
                        "last_outcome": c.last_outcome,
                        "calling": c.id in self._calling,
                        "overdue": c.status == "open" and c.id in late,
                    }
                    for c in found
                ]
            }
        )

    async def _callback_done(self, request: web.Request) -> web.Response:
        session = request[SESSION]
        callback_id = _callback_id(request)
        by = f"operator:{session.operator}"
        done = await self._write(partial(self._store.mark_done, callback_id, at=self._clock(), by=by))
        if not done:
            raise _json_error(web.HTTPConflict, "the callback is done already, or there is none")
        log.info(LogId.OPERATOR_CALLBACK_DONE, operator=session.operator, callback_id=callback_id)
        return web.json_response({"id": callback_id, "status": "done", "done_by": by})

    async def _callback_call(self, request: web.Request) -> web.Response:
        """R4 followed up from the console: the operator's own phone rings first; once they
        answer, Asterisk calls the caller and connects them. The call takes up to a couple of
        minutes, so the answer is 202 at once and the outcome comes on the stream (and in the
        callback's attempts); the callback is done once the caller answered."""
        session = request[SESSION]
        callback_id = _callback_id(request)
        callback = await store_io(self._store, partial(self._store.callback, callback_id))
        if callback is None:
            raise _json_error(web.HTTPNotFound, "no such callback")
        if callback.status != "open":
            raise _json_error(web.HTTPConflict, f"the callback is done already (by {callback.done_by})")
        if callback_id in self._calling:
            raise _json_error(web.HTTPConflict, "the callback is being called already")
        operator, ami = self._operator(session.operator), self._ami()
        if operator is None:
            raise _json_error(web.HTTPForbidden, f"'{session.operator}' is no operator in the config")
        if ami is None:
            raise _json_error(web.HTTPServiceUnavailable, "the AMI link to Asterisk is down: try again shortly")
        log.info(LogId.OPERATOR_CALLBACK_CALL, operator=operator.id, callback_id=callback_id, device=operator.device)
        task = asyncio.get_running_loop().create_task(self._call_back(callback, operator, ami))
        self._calling[callback_id] = task
        task.add_done_callback(lambda _: self._calling.pop(callback_id, None))
        return web.json_response({"id": callback_id, "status": "calling"}, status=202)

    async def _call_back(self, callback: Callback, operator: Operator, ami: AmiClient) -> None:
        by = f"operator:{operator.id}"
        try:
            result = await call_back(
                callback,
                device=operator.device,
                by=by,
                directory=self._directory(),
                store=self._store,
                ami=ami,
                now=self._clock(),
            )
        except (AmiError, StoreError) as exc:
            log.error(LogId.CALLBACK_CALL_FAILED, callback_id=callback.id, by=by, error=str(exc))
            self._publish({"type": "callback", "id": callback.id, "outcome": "failed", "done": False, "by": by})
            return
        self._publish(
            {"type": "callback", "id": callback.id, "outcome": result.outcome.value, "done": result.done, "by": by}
        )

    # -- the queue (over ARI: live_calls) ---------------------------------------------------------

    def _live_calls(self) -> LiveCalls:
        if self._live is None:
            raise _json_error(web.HTTPServiceUnavailable, "the queue is not served: no ARI password (see the log)")
        return self._live

    async def _queue_view(self) -> list[dict[str, Any]]:
        live = self._live_calls()
        referrals = await store_io(self._referrals, self._referrals.snapshot)
        directory, states, now, mono = self._directory(), self._states(), self._clock(), live.now()
        return [call_entry(w, mono, directory, states, referrals, now) for w in live.queue.calls()]

    async def _calls(self, request: web.Request) -> web.Response:
        return web.json_response({"calls": await self._queue_view()})

    async def _act(
        self, request: web.Request, log_id: LogId, action: Callable[[LiveCalls, str, str], Awaitable[Any]], **what: Any
    ) -> Any:
        """One operator action on a call, logged with the operator's id whatever its result."""
        session = request[SESSION]
        live = self._live_calls()
        channel = request.match_info["id"]
        waiting = live.queue.get(channel)
        call_id = waiting.call_id if waiting is not None else None
        try:
            result = await action(live, session.operator, channel)
        except (QueueError, TransferRefused) as exc:
            # A queue move the call's place does not allow, or a target the policy refuses.
            status = _STATUS.get(exc.status, web.HTTPConflict) if isinstance(exc, QueueError) else web.HTTPConflict
            policy = (
                {"rule": exc.rule, "needs_confirmation": exc.needs_confirmation}
                if isinstance(exc, TransferRefused)
                else {}
            )
            log.info(
                LogId.OPERATOR_ACTION_REFUSED,
                operator=session.operator,
                action=log_id.value,
                call_id=call_id,
                why=str(exc),
                rule=policy.get("rule"),
            )
            raise _json_error(status, str(exc), **policy) from None
        log.info(log_id, operator=session.operator, call_id=call_id, **what)
        return result

    async def _answer(self, request: web.Request) -> web.Response:
        await self._act(request, LogId.OPERATOR_ANSWER, lambda live, op, ch: live.answer(op, ch))
        return web.json_response({"id": request.match_info["id"], "place": "offered"})

    async def _transfer(self, request: web.Request) -> web.Response:
        body = await _body(request)
        to = str(body.get("to", "")).strip()
        voicemail, mobile, confirm = (body.get(k) is True for k in ("voicemail", "mobile", "confirm"))
        if not to:
            raise _json_error(web.HTTPBadRequest, "say where to: 'to' is a person, unit, phone or number")
        target = await self._act(
            request,
            LogId.OPERATOR_TRANSFER,
            lambda live, op, ch: live.transfer(op, ch, to, voicemail=voicemail, mobile=mobile, confirmed=confirm),
            voicemail=voicemail,
            mobile=mobile,
            confirmed=confirm,
        )
        return web.json_response(
            {
                "id": request.match_info["id"],
                "to": target.label,
                "kind": target.kind.value,
                "ringing": list(target.devices),
                "timeout_s": target.timeout_s,
                "passed_over": [{"device": d, "why": w} for d, w in target.passed_over],
                "mobile_cost": target.is_mobile_cost,
            }
        )

    async def _hold(self, request: web.Request) -> web.Response:
        await self._act(request, LogId.OPERATOR_HOLD, lambda live, op, ch: live.hold(op, ch))
        return web.json_response({"id": request.match_info["id"], "place": "held"})

    async def _hang_up(self, request: web.Request) -> web.Response:
        await self._act(request, LogId.OPERATOR_HANGUP, lambda live, op, ch: live.hang_up(op, ch))
        return web.json_response({"id": request.match_info["id"], "place": "gone"})

    def referral_changed(self, person: str, reason: str | None, by: str | None) -> None:
        """A referral was set (`reason`) or cleared (None): by an operator here, or from a phone
        (feature codes, in this process), pushed at once. One set or cleared elsewhere (`routing
        referral`, another instance) or ended by itself is found by the watch (`by` None)."""
        self._referral_pushes += 1
        if self._referrals_seen is not None:
            if reason is None:
                self._referrals_seen.pop(person, None)
            else:
                self._referrals_seen[person] = reason
        self._publish({"type": "referral", "person": person, "reason": reason, "by": by})

    async def _watch_referrals(self) -> None:
        """While a stream is open: the referrals in force, read from the store once every
        REFERRAL_POLL_S, and every difference from what the streams were told pushed."""
        failing = False  # a store that fails is said once per outage, not every second
        try:
            while self._streams:
                pushes = self._referral_pushes
                try:
                    state = await store_io(self._referrals, self._referrals.snapshot)
                except StoreError as exc:
                    if not failing:
                        log.warning(exc.log_id, error=str(exc), what="the referrals for the stream")
                    failing = True
                else:
                    failing = False
                    if pushes != self._referral_pushes:  # read before a change pushed meanwhile: read again
                        continue
                    now = self._clock()
                    in_force = {p: r.reason.value for p, r in state.referrals.items() if r.active_at(now)}
                    seen, self._referrals_seen = self._referrals_seen, in_force
                    if seen is not None:
                        for person in sorted(seen.keys() | in_force.keys()):
                            if seen.get(person) != in_force.get(person):
                                self._publish(
                                    {"type": "referral", "person": person, "reason": in_force.get(person), "by": None}
                                )
                await asyncio.sleep(REFERRAL_POLL_S)
        finally:
            self._referrals_seen = None  # a stream opened later starts from what is then in force

    def calls_changed(self) -> None:
        """The queue changed: the streams get it once, however many changes this turn of the
        event loop brought (a resync of many callers is one message)."""
        if not self._streams or (self._calls_task is not None and not self._calls_task.done()):
            return
        self._calls_task = asyncio.get_running_loop().create_task(self._publish_calls())

    async def _publish_calls(self) -> None:
        await asyncio.sleep(0)
        try:
            calls = await self._queue_view()
        except (StoreError, web.HTTPException) as exc:
            log.warning(LogId.SWITCHBOARD_ASTERISK_FAILED, error=str(exc), what="the queue for the stream")
            return
        self._publish({"type": "calls", "calls": calls})

    # -- the live stream ----------------------------------------------------------------------------

    def _phone_state_changed(self, device: str, state: str) -> None:
        people = list(self._index().by_device.get(device, ()))
        self._publish(
            {"type": "phone_state", "device": device, "state": STATE_WORDS.get(state, "unknown"), "people": people}
        )

    def _publish(self, item: dict[str, Any]) -> None:
        for queues in self._streams.values():
            for queue in queues:
                if queue.full():  # a stream that does not keep up is closed; the page reconnects
                    queue.get_nowait()
                    queue.put_nowait(_FELL_BEHIND)
                else:
                    queue.put_nowait(item)

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        session = request[SESSION]
        # A WebSocket is a GET a page of any site may open with the cookie: its Origin must be ours.
        self._same_origin(request)
        ws = web.WebSocketResponse(heartbeat=STREAM_CHECK_S)
        await ws.prepare(request)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=STREAM_BACKLOG)
        self._streams.setdefault(session.token, set()).add(queue)
        if self._referral_watch is None or self._referral_watch.done():
            self._referral_watch = asyncio.get_running_loop().create_task(self._watch_referrals())
        reader = asyncio.get_running_loop().create_task(_drain(ws))
        try:
            await ws.send_json({"type": "hello", "operator": session.operator})
            while not ws.closed and not reader.done():
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=STREAM_CHECK_S)
                except TimeoutError:
                    item = {}
                if item is _FELL_BEHIND:
                    await ws.close(code=STREAM_FELL_BEHIND, message=b"the page fell behind: connect again")
                    break
                if item is None or not self.sessions.alive(session.token):
                    await ws.close(code=STREAM_SESSION_ENDED, message=b"the session ended: log in again")
                    break
                if item:
                    await ws.send_json(item)
        except ConnectionResetError:
            pass
        finally:
            reader.cancel()
            streams = self._streams.get(session.token, set())
            streams.discard(queue)
            if not streams:
                self._streams.pop(session.token, None)
        return ws

    async def _write(self, operation: Callable[[], Any]) -> Any:
        try:
            return await store_io(self._store, operation)
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc))
            raise _json_error(web.HTTPServiceUnavailable, "the store cannot be written now") from exc


async def _drain(ws: web.WebSocketResponse) -> None:
    """The page sends nothing the service acts on; reading notices when it goes."""
    async for _ in ws:
        pass


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _json_error(web.HTTPBadRequest, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _json_error(web.HTTPBadRequest, "the body must be a JSON object")
    return body


def _callback_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise _json_error(web.HTTPNotFound, "no such callback") from None


def _until(value: object, now: datetime) -> datetime | date | None:
    """'HH:MM' today (tomorrow once passed), 'YYYY-MM-DD', or none: as `routing referral set`."""
    if value in (None, ""):
        return None
    return parse_until(str(value), now)
