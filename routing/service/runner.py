"""`routing run`: the service's lifetime. Starts the FastAGI server, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from routing.agi.admission import Admission
from routing.agi.protocol import AgiRequest
from routing.agi.server import FastAgiServer, Handler
from routing.ami.client import AmiClient, AmiError
from routing.calllog.events import CallStep, LogId
from routing.config.errors import ConfigError
from routing.config.load import load_config
from routing.config.schema import Config
from routing.config.secrets import SecretMissing, read_secret
from routing.policy import spoken_swedish
from routing.policy.directory import Directory
from routing.policy.steps import StepKind
from routing.service import dialplan_variables as v
from routing.service.active_lease import ActiveLease
from routing.service.asterisk_link import AsteriskLink
from routing.service.calendar_sync import CalendarBook, CalendarReferrals, CalendarSync
from routing.service.call_resume import CallResumer
from routing.service.call_router import CallRouter, now_local
from routing.service.device_states import DeviceStates
from routing.service.failsafe import astdb_entries
from routing.service.features import FeatureCodes
from routing.service.followup_watch import FollowUpWatch
from routing.service.install_checks import Probe, run_checks
from routing.service.not_played import not_played
from routing.service.orphan_calls import INTERVAL_S as ORPHAN_INTERVAL_S
from routing.service.orphan_calls import Me, OrphanCalls, is_gone, others_alive
from routing.service.outbound_calls import OutboundCalls
from routing.service.prompts import Prompts
from routing.service.referrals import ReferralStore
from routing.store import Store, StoreError, open_store
from routing.store.base import call_start
from routing.store.io import store_io

if TYPE_CHECKING:
    from routing.ari.stream import AriEventStream
    from routing.service.prompt_server import PromptServer
    from routing.switchboard.api import SwitchboardApi
    from routing.switchboard.live_calls import LiveCalls, StoredCall

log = structlog.get_logger("routing.service")


def _listen_address(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class AgiApplication:
    """Hands each FastAGI request to the part of the service its script names."""

    def __init__(self, router: CallRouter, features: FeatureCodes, outbound: OutboundCalls, prompts: Prompts) -> None:
        async def probe(_request: AgiRequest) -> Mapping[str, str]:
            """routing doctor's probe call: a prompt to play, nothing logged or recorded."""
            return {v.PROMPT: await prompts.path_for(None, spoken_swedish.PROBE), v.ACTION: v.PLAY}

        self._handlers: dict[str, Handler] = {
            v.SCRIPT_PROBE: probe,
            v.SCRIPT_STEP: router,
            v.SCRIPT_ANSWERED: router,
            v.SCRIPT_HANGUP: router,
            v.SCRIPT_FEATURE: features,
            v.SCRIPT_OUTBOUND: outbound,
            v.SCRIPT_NOT_PLAYED: not_played,
        }

    async def __call__(self, request: AgiRequest) -> Mapping[str, str]:
        handler = self._handlers.get(request.script)
        if handler is None:
            log.warning(LogId.AGI_UNKNOWN_SCRIPT, script=request.script)
            return {v.ACTION: v.FAILSAFE}
        return await handler(request)


class Service:
    """Everything `routing run` runs, for one config; tests start it in-process."""

    def __init__(
        self,
        config: Config,
        *,
        referrals: ReferralStore | None = None,
        store: Store | None = None,
        clock: Callable[[], datetime] | None = None,
        connect_ami: bool = True,
    ) -> None:
        self.config = config
        self._connect_ami = connect_ami
        self.link: AsteriskLink | None = None
        self.store = store if store is not None else open_store(config.store.url)
        now = clock if clock is not None else now_local
        self._clock = now
        # People's calendars (#15): their referrals lie under the store's (set by hand wins, R11);
        # calls read what the sync round last read, never a feed.
        self.calendar_book = CalendarBook(timedelta(hours=config.calendar_sync.keep_hours))
        self.referrals: ReferralStore = CalendarReferrals(
            referrals if referrals is not None else self.store, self.calendar_book, now
        )
        self.calendar_sync = CalendarSync(lambda: self.config, self.calendar_book, self.store, now)
        self._calendar_task: asyncio.Task[None] | None = None
        prompts = Prompts(Path(config.prompts.dir), config.prompts.voice, base_url=config.prompts.base_url)
        self.prompts = prompts
        self.device_states = DeviceStates()
        self.me = Me.new()  # this instance, in the store and on each call.start
        self.router = CallRouter(
            Directory.from_config(config),
            self.referrals,
            prompts,
            progress_timeout_s=config.ring.progress_timeout_s,
            clock=now,
            callbacks=self.store,
            device_states=self.device_states,
            instance=self.me.id,
            resumer=CallResumer(self.store, self.me.id, lambda: self.router.directory),
        )
        self.features = FeatureCodes(lambda: self.router.directory, self.referrals, prompts, now)
        self.outbound = OutboundCalls(lambda: self.router.directory, prompts)
        self.agi_token = self.store.agi_token()  # Asterisk sends it with every request (from AstDB)
        admission = Admission.of(config.asterisk.agi.allow, self.agi_token)
        self.agi = FastAgiServer(
            AgiApplication(self.router, self.features, self.outbound, prompts), admission=admission
        )
        self.prompt_server: PromptServer | None = None
        if config.prompts.http is not None:
            from routing.service.prompt_server import PromptServer  # aiohttp: loaded only to serve prompts

            self.prompt_server = PromptServer(prompts, admission)
        self.switchboard: SwitchboardApi | None = None
        self.live: LiveCalls | None = None
        self.ari_stream: AriEventStream | None = None
        self._switchboard_tasks: list[asyncio.Task[None]] = []
        if config.switchboard.operators:
            from routing.switchboard.api import SwitchboardApi  # argon2 and the API: for a switchboard only

            self.live, self.ari_stream = self._live_calls(config, now)
            self.switchboard = SwitchboardApi(
                lambda: self.router.directory,
                self.store,
                self.device_states.known,
                now,
                on_state_change=self.device_states.listen,
                live=self.live,
                ami=self._ami_if_up,
                referrals=self.referrals,
                calendars=lambda: self.calendar_book.fresh(now()),
                active=lambda: self.lease.held,
            )
            if self.live is not None:
                self.live.on_change = self.switchboard.calls_changed
            self.features.on_referral = self.switchboard.referral_changed
        self.agi_address: tuple[str, int] | None = None
        # #17: of the instances sharing the store, the active one writes the AstDB fail-safe, runs
        # the follow-up round and serves the switchboard's queue over ARI.
        self.lease = ActiveLease(self.store, self.me.id, self._lease_changed, holder_gone=self._instance_gone)
        self._lease_task: asyncio.Task[None] | None = None
        self._ari_task: asyncio.Task[None] | None = None
        self.followup = FollowUpWatch(lambda: self.router.directory, self.store, now, active=lambda: self.lease.held)
        self._followup_task: asyncio.Task[None] | None = None
        self.orphans = OrphanCalls(self.store, self.me, self._live_channels if connect_ami else None)
        self._orphans_task: asyncio.Task[None] | None = None
        self._checks_task: asyncio.Task[None] | None = None
        self._probe: Probe | None = None
        self._reloading = asyncio.Lock()
        self._reload_tasks: set[asyncio.Task[bool]] = set()
        self._handing_over = False  # stopping with another instance to go on with the calls (#17)
        self._background: set[asyncio.Task[None]] = set()  # kept until done (the loop holds tasks weakly)

    def _live_calls(
        self, config: Config, clock: Callable[[], datetime]
    ) -> tuple[LiveCalls | None, AriEventStream | None]:
        """The switchboard's queue over ARI. Without the ARI password the queue is not served:
        its callers get Stasis()'s failure at once, and the switchboard's phones (R3)."""
        ari = config.asterisk.ari
        try:
            password = read_secret(ari.password_env, ari.password_file)
        except SecretMissing as exc:
            log.error(LogId.SWITCHBOARD_NO_ARI, error=str(exc), what="the switchboard's queue is not served")
            return None, None
        from routing.ari.client import AriClient
        from routing.ari.stream import AriEventStream
        from routing.policy.switchboard_queue import SwitchboardQueue
        from routing.switchboard.live_calls import LiveCalls

        client = AriClient(str(ari.url), ari.username, password, ari.app)
        directory = self.router.directory
        queue = SwitchboardQueue(_queue_timeout_s(config, directory), config.switchboard.hold_recall_s)
        stream: AriEventStream | None = None
        live = LiveCalls(
            client,
            queue,
            lambda: self.router.directory,
            call_of=self.router.calls.get,
            state=self.router.routing_state,
            ami=self._ami_if_up,
            clock=clock,
            connected=lambda: stream is not None and stream.connected.is_set(),
            stored=self._stored_call,
        )
        stream = AriEventStream(client, live.on_event, live.on_resync)
        self.router.on_hangup = live.hung_up
        return live, stream

    def _instance_gone(self, instance: str) -> bool:
        """Whether another instance is gone: on this host its process, elsewhere its heartbeat
        (orphan_calls.is_gone). An instance not in the store is not taken as gone."""
        try:
            known = next((i for i in self.store.instances() if i.id == instance), None)
        except StoreError:
            return False
        return known is not None and is_gone(known, self.me, datetime.now(UTC))

    def _lease_changed(self, held: bool) -> None:
        """This instance became the active one (#17): it writes the fail-safe entries now and
        takes the switchboard's callers in hand (the resync after the ARI connection finds them
        in Stasis). It stopped being it: it lets go of the ARI application."""
        if held and self.link is not None:
            self.link.resync()
        if self.ari_stream is None:
            return
        if held and (self._ari_task is None or self._ari_task.done()):
            self._ari_task = asyncio.get_running_loop().create_task(self.ari_stream.run())
        elif not held:
            stopping = asyncio.get_running_loop().create_task(self.ari_stream.stop())
            self._background.add(stopping)
            stopping.add_done_callback(self._background.discard)

    async def _stored_call(self, call_id: str) -> StoredCall | None:
        """What the store has of a call in the switchboard's queue that another instance routed
        (#17): the number dialled and how long ago it entered the switchboard."""
        try:
            events = await store_io(self.store, partial(self.store.call_events, call_id))
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="a taken-over caller's call not read")
            return None
        start = call_start(events)
        if start is None:
            return None
        from routing.switchboard.live_calls import StoredCall  # loaded with the switchboard only

        queued = [e.at for e in events if isinstance(e.event, CallStep) and e.event.step == StepKind.SWITCHBOARD]
        waited = (datetime.now(UTC) - datetime.fromisoformat(queued[-1])).total_seconds() if queued else None
        return StoredCall(start.called, waited)

    def _ami_if_up(self) -> AmiClient | None:
        return self.link.ami if self.link is not None and self.link.ami.logged_in else None

    def on_answered(self, uniqueid: str, channel: str, linkedid: str | None = None) -> None:
        """A phone answered a routed caller (AMI UserEvent RoutingAnswered): the switchboard
        learns its operator or transfer was answered, the router that the call was."""
        by = self.live.answered(uniqueid) if self.live is not None else None
        self.router.answered(uniqueid, channel, linkedid, by=by)

    def reload_soon(self, path: str) -> None:
        """SIGHUP: reload in the background (the signal handler must not wait)."""
        task = asyncio.get_running_loop().create_task(self.reload(path))
        self._reload_tasks.add(task)
        task.add_done_callback(self._reload_tasks.discard)

    async def start(self) -> None:
        Path(self.config.prompts.dir).mkdir(parents=True, exist_ok=True)
        self.orphans.beat()  # known in the store before its first call
        http = self.config.prompts.http
        if self.prompt_server is not None and http is not None:
            host, port = await self.prompt_server.start(*_listen_address(http.listen))
            if http.url is None:  # Asterisk reaches the address bound (a port 0 is chosen now)
                self.prompts.base_url = f"http://{host}:{port}"
        if self.switchboard is not None:
            await self.switchboard.start(*_listen_address(self.config.switchboard.listen))
        host, port = _listen_address(self.config.asterisk.agi.listen)
        self.agi_address = await self.agi.start(host, port)
        if self.live is not None:
            self._switchboard_tasks = [asyncio.get_running_loop().create_task(self.live.run())]
        await self.lease.renew()  # active or standing by before AMI's first sync
        self._lease_task = asyncio.get_running_loop().create_task(self.lease.run())
        if self._connect_ami:
            await self._start_link()
        self._followup_task = asyncio.get_running_loop().create_task(self.followup.run())
        self._orphans_task = asyncio.get_running_loop().create_task(self.orphans.run())
        self._calendar_task = asyncio.get_running_loop().create_task(self.calendar_sync.run())
        log.info(
            LogId.CONFIG_LOADED,
            config=self.config.source_hash,
            units=len(self.config.units),
            people=len(self.config.people),
        )
        await self._keep_config_version(self.config)
        log.info(LogId.SERVICE_STARTED, agi=f"{self.agi_address[0]}:{self.agi_address[1]}", ami=self.link is not None)

    async def _start_link(self) -> None:
        """AMI for the fail-safe entries in AstDB. Calls are routed without it; the fail-safe
        then knows only what it was given last time, so the problem is logged as an error."""
        ami = self.config.asterisk.ami
        try:
            secret = read_secret(ami.secret_env, ami.secret_file)
        except SecretMissing as exc:
            log.error(exc.log_id, error=str(exc), what="no AMI: the AstDB fail-safe is not updated")
            return
        self.link = AsteriskLink(
            lambda on_login: AmiClient(
                ami.host, ami.port, ami.username, secret, on_login=on_login, events=AsteriskLink.EVENTS
            ),
            lambda: astdb_entries(self.router.directory, self.agi_token),
            lambda: self.router.directory.devices(),
            self.device_states,
            self.router.forget_gone_channels,
            on_synced=self._check_installation,
            on_answered=self.on_answered,
            writes=lambda: self.lease.held,
        )
        try:
            await self.link.start()
        except AmiError as exc:
            # panoramisk keeps trying to log in; the entries are sent when it succeeds.
            log.error(exc.log_id, error=str(exc), what="AMI not reachable yet: retrying")

    def _check_installation(self) -> None:
        """After every AMI login (and config change): the checks of `routing doctor`, logged;
        a failure is a warning, never a reason to stop serving calls."""
        if self._checks_task is not None and not self._checks_task.done():
            self._checks_task.cancel()
        self._checks_task = asyncio.get_running_loop().create_task(self._log_checks())

    async def _log_checks(self) -> None:
        if self.link is None:
            return
        try:
            self._probe = self._probe or Probe(self.link.ami)
            checks = await run_checks(self.config, self.router.directory, self.store, self.link.ami, self._probe)
        except (AmiError, StoreError) as exc:
            log.warning(LogId.INSTALL_CHECK, check="all", ok=False, detail=str(exc), fix="see routing doctor")
            return
        for check in checks:
            if check.ok:
                log.info(LogId.INSTALL_CHECK, check=check.name, ok=True, detail=check.detail)
            else:
                log.warning(LogId.INSTALL_CHECK, check=check.name, ok=False, detail=check.detail, fix=check.fix)

    async def reload(self, path: str) -> bool:
        """Read the config again. A broken file changes nothing (the running config stays);
        calls in progress keep the plan they started with; new calls get the new config.

        The file is read and checked in a process of its own (a config of 20,000 people takes
        a second or two, much of it in libyaml and pydantic's core, which hold the
        interpreter: a thread would still stall the calls) and turned into the directory in a
        thread; calls arriving meanwhile are routed at once with the running config, and the
        new one is swapped in in one step. Reloads asked for while one runs follow it."""
        async with self._reloading:
            return await self._reload(path)

    async def _reload(self, path: str) -> bool:
        try:
            config = await _read_elsewhere(path)
            directory = await asyncio.to_thread(Directory.from_config, config)
        except ConfigError as exc:
            log.error(exc.log_id, file=path, errors=[str(issue) for issue in exc.issues], kept="running config")
            return False
        except OSError as exc:
            log.error(LogId.CONFIG_UNREADABLE, file=path, error=str(exc), kept="running config")
            return False
        changed = [key for key in RESTART_KEYS if getattr(config, key) != getattr(self.config, key)]
        if changed:
            log.warning(LogId.CONFIG_RESTART_NEEDED, keys=changed, detail="these keys take effect at the next start")
        self.config = config
        self.router.directory = directory
        if self.live is not None:  # the queue's timings follow the config like its operators do
            self.live.queue.timeout_s = _queue_timeout_s(config, directory)
            self.live.queue.hold_recall_s = config.switchboard.hold_recall_s
        if self.link is not None:
            self.link.resync()  # the AstDB fail-safe follows the new config
        log.info(
            LogId.CONFIG_RELOADED,
            file=path,
            config=config.source_hash,
            units=len(config.units),
            people=len(config.people),
        )
        await self._keep_config_version(config)
        return True

    async def _keep_config_version(self, config: Config) -> None:
        """The config's text by its hash in the store (#16): every call planned under it names
        the hash, and `routing explain --call` plans it again under the very same config."""
        if not config.source_hash:
            return
        save = partial(self.store.save_config_version, config.source_hash, config.source_text, at=self._clock())
        try:
            # In a thread whatever the store: the text of a municipality's config is megabytes.
            await asyncio.to_thread(save)
        except StoreError as exc:
            log.error(
                exc.log_id, error=str(exc), what="the config's version is not kept (explain --call needs the file)"
            )

    async def drain(self, bound_s: float) -> None:
        """Stop taking new calls (the dialplan's fail-safe takes them) and give the calls in
        progress up to `bound_s` seconds to finish their flow. With another instance running
        (#17) there is no wait: the dialplan asks it for new calls, and it goes on with the calls
        in progress at their next request."""
        self.router.draining = True
        others = await self._others_alive()
        if others:
            self._handing_over = True
            log.info(LogId.SERVICE_HANDING_OVER, calls_in_progress=len(self.router.calls), to=others)
            return
        log.info(LogId.SERVICE_DRAINING, calls_in_progress=len(self.router.calls), bound_s=bound_s)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound_s
        while self.router.calls and loop.time() < deadline:
            await asyncio.sleep(0.2)

    async def _others_alive(self) -> list[str]:
        """The other instances sharing the store that beat lately (three heartbeats)."""
        try:
            instances = await store_io(self.store, self.store.instances)
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="other instances unknown: calls in progress are drained here")
            return []
        within = timedelta(seconds=3 * ORPHAN_INTERVAL_S)
        return [i.id for i in others_alive(instances, self.me, datetime.now(UTC), within=within)]

    async def _live_channels(self) -> set[str]:
        if self.link is None or not self.link.synced.is_set():
            raise AmiError("AMI is not logged in")
        return await self.link.ami.channel_names()

    async def stop(self) -> None:
        self.router.draining = True  # no new call, no call taken over, while the parts stop
        for task in (self._followup_task, self._orphans_task, self._checks_task, self._calendar_task, self._lease_task):
            if task is not None:
                task.cancel()
        if self.link is not None:
            self.link.close()
        await self.agi.stop()
        if self.prompt_server is not None:
            await self.prompt_server.stop()
        if self.ari_stream is not None:
            await self.ari_stream.stop()
        for task in (*self._switchboard_tasks, self._ari_task):
            if task is not None:
                task.cancel()
        if self.live is not None:
            await self.live.ari.close()
        if self.switchboard is not None:
            await self.switchboard.stop()
        in_progress = len(self.router.calls)
        if self._handing_over:
            self.router.hand_over()  # left open in the store for the other instance
        else:
            self.router.let_go()
        self.lease.release()  # another instance is the active one at its next round
        self.orphans.leave()
        log.info(
            LogId.SERVICE_STOPPED,
            calls_let_go=0 if self._handing_over else in_progress,
            calls_handed_over=in_progress if self._handing_over else 0,
        )


def _queue_timeout_s(config: Config, directory: Directory) -> float:
    """How long the switchboard's queue holds a caller: its own setting, else the ring limit (R1)."""
    return config.switchboard.queue_timeout_s or directory.ring_timeout_s


async def _read_elsewhere(path: str) -> Config:
    """load_config(path) in a fresh process (spawned: nothing of this one is copied)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, load_config, path)


RESTART_KEYS = ("asterisk", "store", "prompts", "logging")  # read once at start


async def serve(config: Config, config_path: str, *, store: Store | None = None, drain_s: float = 30.0) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP reloads the config. Exit status 0 after a clean stop:
    new calls go to the dialplan's fail-safe, calls in progress get `drain_s` to finish."""
    ami = config.asterisk.ami
    try:
        read_secret(ami.secret_env, ami.secret_file)
    except SecretMissing as exc:
        log.error(exc.log_id, error=str(exc))
        return 2
    if config.switchboard.operators:  # the ARI password is asked for only for a switchboard
        ari = config.asterisk.ari
        try:
            read_secret(ari.password_env, ari.password_file)
        except SecretMissing as exc:
            log.error(exc.log_id, error=str(exc), what="the switchboard has operators: its queue needs ARI")
            return 2
    service = Service(config, store=store)  # the store the log's recorder writes to: one connection
    try:
        await service.start()
    except OSError as exc:
        log.error(LogId.SERVICE_CANNOT_LISTEN, listen=config.asterisk.agi.listen, error=str(exc))
        return 1
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    loop.add_signal_handler(signal.SIGHUP, service.reload_soon, config_path)
    await stopping.wait()
    await service.drain(drain_s)
    await service.stop()
    return 0
