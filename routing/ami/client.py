"""A thin AMI client on panoramisk: every action is timed out (panoramisk leaves an action
sent while Asterisk is down unresolved forever), events go to plain callbacks and, if asked
for, to a recorder (routing.ami.events.AmiRecorder)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog
from panoramisk import Manager
from panoramisk.message import Message
from structlog.typing import FilteringBoundLogger

from routing.ami.backoff import Backoff
from routing.ami.events import AmiRecorder
from routing.calllog.events import LogId

log = structlog.get_logger("routing.ami")

EventCallback = Callable[[Message], None]
FieldValue = str | Sequence[str]  # a sequence is sent as one header line per item


class PanoramiskLog:
    """panoramisk's own log lines, reduced to one line per state change in ours: a retry after
    each failed attempt would otherwise flood the log (and outside the JSON stream). Each
    failed attempt is passed to `on_failed_attempt` (the client's backoff)."""

    def __init__(
        self,
        host: str,
        port: int,
        on_failed_attempt: Callable[[], float] | None = None,
        *,
        logger: FilteringBoundLogger | None = None,
    ) -> None:
        self._where = {"host": host, "port": port}
        self._on_failed_attempt = on_failed_attempt
        self._log = logger if logger is not None else log
        self.unreachable = False

    def _cannot_connect(self, message: str) -> None:
        if "Not able" not in message:
            return
        next_s = self._on_failed_attempt() if self._on_failed_attempt is not None else None
        if not self.unreachable:
            self.unreachable = True
            self._log.warning(
                LogId.AMI_UNREACHABLE, **self._where, detail="retrying, less often the longer it lasts", next_s=next_s
            )

    def warning(self, message: str, *args: object, **kwargs: object) -> None:
        self._cannot_connect(message)

    def exception(self, message: str, *args: object, **kwargs: object) -> None:
        self._cannot_connect(message)

    def error(self, message: str, *args: object, **kwargs: object) -> None:
        """'Connection lost': logged as ami.disconnected by the client."""

    def info(self, message: str, *args: object, **kwargs: object) -> None:
        """Reconnect notices: the state changes are logged instead."""

    def debug(self, message: str, *args: object, **kwargs: object) -> None:
        """Protocol chatter."""

    def logged_in(self) -> None:
        self.unreachable = False


class _Manager(Manager):  # type: ignore[misc]  # panoramisk has no type hints
    """panoramisk's Manager, also telling when Asterisk refuses the login (a wrong secret or
    user): panoramisk itself stays silent then, and Asterisk hangs up and is asked again.
    Without `keepalive` it sends no Ping (panoramisk always schedules them)."""

    def __init__(self, *, on_login_refused: Callable[[str], None], keepalive: bool = True, **config: Any) -> None:
        super().__init__(**config)
        self._on_login_refused = on_login_refused
        self._keepalive = keepalive

    def ping(self) -> None:
        if self._keepalive:
            super().ping()

    def login(self, future: asyncio.Future[Any]) -> bool:
        authenticated = bool(super().login(future))
        if not authenticated:
            reply = future.result()
            self._on_login_refused(str(reply.get("Message", "")) if isinstance(reply, Message) else "")
        return authenticated


class AmiError(Exception):
    """An AMI action failed or timed out. Stable log id: ami.action_failed."""

    log_id = "ami.action_failed"


class AmiTimeout(AmiError):
    """Asterisk did not answer in time (it is down, or busy): an AmiError of its own, for a
    caller that ignores Asterisk's refusals but not its silence."""


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        action_timeout_s: float = 5.0,
        on_login: Callable[[], None] | None = None,
        events: tuple[str, ...] | None = None,
        backoff: Backoff | None = None,
        recorder: AmiRecorder | None = None,
        keepalive: bool = True,
        logger: FilteringBoundLogger | None = None,
    ) -> None:
        """`events`: the only events this session needs (None: all). Asterisk then sends only
        those: with every event on, each call's dialplan steps arrive here as dozens of
        Newexten/VarSet messages to parse, slowing the event loop the calls are routed on.

        `recorder`: every event this session gets is recorded in it, with its arrival time.
        `keepalive`: a Ping every 10 s (False: none, e.g. for a short-lived tool session).
        `logger`: where this client's state changes are logged (default the `routing.ami`
        logger of the global structlog config; a second session in one process, such as a
        test's, keeps its lines out of the service's log this way)."""
        self._backoff = backoff if backoff is not None else Backoff()
        self._log = logger if logger is not None else log
        quiet = PanoramiskLog(host, port, on_failed_attempt=self._attempt_failed, logger=self._log)
        self._events = events
        self._recorder = recorder
        self._logged_in = asyncio.Event()  # set while logged in (filters and on_login done)
        self._refused = asyncio.Event()  # set when Asterisk refused the last login
        self._refusal = ""

        def announce() -> None:
            self._logged_in.set()
            if on_login is not None:
                on_login()

        async def filter_then_announce() -> None:
            await self._filter_events()
            announce()

        def logged_in(manager: Manager) -> None:
            quiet.logged_in()
            self._state = "logged_in"
            self._refused.clear()
            manager.reconnect_timeout = self._backoff.reset()
            self._log.info(LogId.AMI_LOGGED_IN, host=host, port=port)
            if events is None:
                announce()
                return
            task = asyncio.get_running_loop().create_task(filter_then_announce())
            self._login_tasks.add(task)
            task.add_done_callback(self._login_tasks.discard)

        def disconnected(_manager: Manager, exc: Exception | None) -> None:
            self._logged_in.clear()
            # Once per state change: not after each refused login (logged as such).
            if self._state == "logged_in":
                self._log.warning(LogId.AMI_DISCONNECTED, host=host, port=port, error=str(exc) if exc else None)
                self._state = "disconnected"

        def login_refused(message: str) -> None:
            next_s = self._attempt_failed()
            self._refusal = message
            self._refused.set()
            if self._state != "refused":
                self._state = "refused"
                self._log.error(
                    LogId.AMI_LOGIN_REFUSED,
                    host=host,
                    port=port,
                    username=username,
                    reply=message,
                    next_s=next_s,
                    what="check asterisk.ami (username, secret) against manager.conf; retrying",
                )

        # panoramisk logs in again by itself after a drop, reconnect_timeout seconds after each
        # failed attempt (read at each attempt: the backoff sets it); on_login is where state
        # is sent again (AstDB after an Asterisk restart).
        self._state = "new"  # logged_in | disconnected | refused: one log line per change
        self._manager = _Manager(
            on_login_refused=login_refused,
            keepalive=keepalive,
            host=host,
            port=port,
            username=username,
            secret=secret,
            ping_delay=10,
            reconnect_timeout=self._backoff.first_s,
            on_login=logged_in,
            on_disconnect=disconnected,
            log=quiet,
        )
        self._timeout = action_timeout_s
        self._callbacks: list[tuple[str, EventCallback]] = []
        self._login_tasks: set[asyncio.Task[None]] = set()
        if recorder is not None:
            self.on_event("*", recorder.record)

    @property
    def recorder(self) -> AmiRecorder | None:
        return self._recorder

    @property
    def logged_in(self) -> bool:
        """Logged in now, with the event filters set and `on_login` run."""
        return self._logged_in.is_set()

    @property
    def protocol_version(self) -> str | None:
        """The AMI protocol version from the greeting of the connection's server, the line
        `Asterisk Call Manager/<version>` (panoramisk reads it); None before any such greeting
        came (not connected yet, or the server is not an Asterisk manager)."""
        protocol = getattr(self._manager, "protocol", None)
        version = getattr(protocol, "version", None)
        return version if isinstance(version, str) else None

    def _attempt_failed(self) -> float:
        delay = self._backoff.failed()
        self._manager.reconnect_timeout = delay
        return delay

    async def _filter_events(self) -> None:
        """Ask Asterisk for this session's events only (filters last as long as the session,
        so this runs at every login). Needs the AMI user's `write = system`; without it every
        event still comes, which is slower but correct."""
        assert self._events is not None
        for name in self._events:
            try:
                await self.action({"Action": "Filter", "Operation": "Add", "Filter": f"Event: {name}"})
            except AmiError as exc:
                self._log.warning(
                    LogId.AMI_FILTER_REFUSED,
                    error=str(exc),
                    what="every AMI event is sent to the service; give its AMI user write = system",
                )
                return

    async def connect(self, timeout_s: float = 10.0, *, wait_for_login: bool = False) -> None:
        """Open the connection; the login follows by itself (and after every reconnect).
        With `wait_for_login`, also wait for it (with the event filters set and `on_login`
        run), `timeout_s` in all; AmiError if Asterisk refuses it. On an AmiError the client
        goes on trying in the background until closed."""
        deadline = time.monotonic() + timeout_s
        try:
            await asyncio.wait_for(self._manager.connect(), timeout_s)
        except (OSError, TimeoutError) as exc:
            raise AmiError(f"cannot log in to AMI: {exc or type(exc).__name__}") from exc
        if wait_for_login:
            await self._wait_for_login(deadline - time.monotonic(), timeout_s)

    async def _wait_for_login(self, remaining_s: float, timeout_s: float) -> None:
        waits = [asyncio.ensure_future(self._logged_in.wait()), asyncio.ensure_future(self._refused.wait())]
        try:
            await asyncio.wait(waits, timeout=max(0.0, remaining_s), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if self._logged_in.is_set():
            return
        if self._refused.is_set():
            raise AmiError(f"AMI login refused: {self._refusal or 'no reason given'}")
        raise AmiTimeout(f"no AMI login within {timeout_s:g} s")

    def close(self) -> None:
        for task in self._login_tasks:
            task.cancel()
        self._logged_in.clear()
        self._manager.close()

    def on_event(self, pattern: str, callback: EventCallback) -> Callable[[], None]:
        """Call `callback(message)` for events matching `pattern` ('*' for all). Returns what
        stops it: a listener for one request (a callback call) on the service's long-lived
        link must not stay registered after its answer."""

        def relay(_manager: Manager, message: Message) -> None:
            callback(message)

        self._manager.register_event(pattern, relay)

        def remove() -> None:
            # A new list, not removal in place: panoramisk may be iterating the old one (a
            # listener that stops itself while its event is dispatched).
            manager = self._manager
            left = [c for c in manager.callbacks[pattern] if c is not relay]
            manager.callbacks[pattern] = left
            if not left:  # panoramisk adds the pattern again at its next registration
                manager.patterns = [(p, regexp) for p, regexp in manager.patterns if p != pattern]

        return remove

    async def action(
        self, fields: Mapping[str, FieldValue], *, as_list: bool | None = None, timeout_s: float | None = None
    ) -> Any:
        """Send an action; its response (with `as_list`, or for an action Asterisk answers with
        a list of events, the list of messages). A sequence value is sent as one header line
        per item (Originate's `Variable`). AmiError if Asterisk answers Error, AmiTimeout if
        it does not answer within `timeout_s` (default the client's action timeout)."""
        name = fields.get("Action", "?")
        timeout = timeout_s if timeout_s is not None else self._timeout
        message = {key: value if isinstance(value, str) else list(value) for key, value in fields.items()}
        try:
            result = await asyncio.wait_for(self._manager.send_action(message, as_list=as_list), timeout)
        except TimeoutError as exc:
            raise AmiTimeout(f"AMI action {name} timed out after {timeout:g} s") from exc
        response = result[0] if isinstance(result, list) and result else result
        if isinstance(response, Message) and response.get("Response") == "Error":
            raise AmiError(f"AMI action {name} failed: {response.get('Message')}")
        return result

    async def action_list(self, fields: Mapping[str, FieldValue], *, timeout_s: float | None = None) -> list[Message]:
        """An action Asterisk answers with a list of events (EventList: start … the closing
        `…Complete` event): those events, without the response and the closing event. The
        whole list must come within `timeout_s`. AmiError if Asterisk refuses the action or
        answers it without a list."""
        name = fields.get("Action", "?")
        result = await self.action(fields, timeout_s=timeout_s)
        if not isinstance(result, list):
            raise AmiError(f"AMI action {name} answered without a list: {result!r}")
        return [
            m
            for m in result
            if isinstance(m, Message) and m.get("Event") and not str(m.get("Event")).endswith("Complete")
        ]

    async def set_global(self, name: str, value: str) -> None:
        await self.action({"Action": "Setvar", "Variable": name, "Value": value})

    async def originate(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        caller_id: str,
        variables: Mapping[str, str] | None = None,
        timeout_ms: int = 30000,
    ) -> Message | None:
        """Originate `channel` into context/exten. Returns Asterisk's OriginateResponse once the
        channel answered or gave up (Response: Success or Failure), or None if none came."""
        fields = {
            "Action": "Originate",
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": "1",
            "CallerID": caller_id,
            "Async": "true",
            "Timeout": str(timeout_ms),
        }
        if variables:
            fields["Variable"] = ",".join(f"{k}={v}" for k, v in variables.items())
        # panoramisk completes an async Originate with its OriginateResponse, which comes only
        # when the channel answers or the Timeout runs out: wait that long, and a little more.
        result = await self.action(fields, timeout_s=timeout_ms / 1000 + self._timeout)
        last = result[-1] if isinstance(result, list) and result else result
        return last if isinstance(last, Message) and last.get("Event") == "OriginateResponse" else None

    async def db_put(self, family: str, key: str, value: str) -> None:
        await self.action({"Action": "DBPut", "Family": family, "Key": key, "Val": value})

    async def db_del(self, family: str, key: str) -> None:
        await self.action({"Action": "DBDel", "Family": family, "Key": key})

    async def db_keys(self, family: str) -> dict[str, str]:
        """Every key under `family` with its value (from `database show`)."""
        prefix = f"/{family}/"
        found: dict[str, str] = {}
        for line in (await self.command(f"database show {family}")).splitlines():
            path, sep, value = line.partition(" : ")
            if sep and path.strip().startswith(prefix):
                found[path.strip()[len(prefix) :]] = value.strip()
        return found

    async def channel_names(self) -> set[str]:
        """Every channel Asterisk has now (CoreShowChannels)."""
        result = await self.action({"Action": "CoreShowChannels"}, as_list=True)
        messages = result if isinstance(result, list) else [result]
        return {str(m.get("Channel")) for m in messages if m.get("Event") == "CoreShowChannel"}

    async def command(self, command: str) -> str:
        """A CLI command over AMI; returns its output."""
        result = await self.action({"Action": "Command", "Command": command})
        output = result.get("Output", "") if isinstance(result, Message) else ""
        return "\n".join(output) if isinstance(output, list) else str(output)
