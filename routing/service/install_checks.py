"""The live installation, checked the way an admin would check it by hand (#11): `routing doctor`
prints these, `routing run` logs them after every AMI login (warnings, never a refusal to
serve calls).

Each check asks the running Asterisk over AMI (and the store, and ARI): the AMI user's rights,
the dialplan contexts and globals, the AstDB entries, the mailboxes and devices the config
names, and one real probe call on a Local channel (`routing-doctor`) that asks the service over
FastAGI with the secret, plays the prompt the service gives, reports what happened as the
UserEvent RoutingDoctor and hangs up by itself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from panoramisk.message import Message

from routing.ami.client import AmiClient, AmiError
from routing.config.schema import Config
from routing.config.secrets import SecretMissing, read_secret
from routing.policy.directory import Directory
from routing.service.active_lease import LEASE as ACTIVE_LEASE
from routing.service.failsafe import FAMILY, astdb_entries
from routing.store.base import Store, StoreError

CONTEXTS = (
    "routing-inbound",
    "routing-internal",
    "routing-flow",
    "routing-voicemail",
    "routing-answered",
    "routing-hangup",
    "routing-mobile",
    "routing-mobile-guard",
    "routing-callback",
    "routing-outbound",
    "routing-features",
    "routing-not-played",
    "routing-failsafe-group",
    "routing-ring-group",
    "routing-doctor",
)
GLOBALS = ("ROUTING_AGI", "ROUTING_FAILSAFE_MAILBOX")
STANDBY_GLOBAL = "ROUTING_AGI_STANDBY"  # optional (#17)
PROBE_TIMEOUT_S = 15.0
PROBE_EVENT = "RoutingDoctor"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""  # what to do when it fails


def _ok(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


class Probe:
    """Probe calls on one AMI session: each gets an id, its UserEvent resolves it."""

    def __init__(self, ami: AmiClient) -> None:
        self._ami = ami
        self._waiting: dict[str, asyncio.Future[Message]] = {}
        ami.on_event("UserEvent", self._on_event)

    def _on_event(self, message: Message) -> None:
        if message.get("UserEvent") != PROBE_EVENT:
            return
        waiting = self._waiting.get(str(message.get("Id", "")))
        if waiting is not None and not waiting.done():
            waiting.set_result(message)

    async def call(self, timeout_s: float = PROBE_TIMEOUT_S, *, agi_url: str = "") -> Message | None:
        """One probe call; its report, or None if none came in time. AmiError if Asterisk
        refuses the Originate (the AMI user may not originate). `agi_url`: the instance to ask
        (the standby's, #17); by default ROUTING_AGI."""
        probe_id = uuid.uuid4().hex[:12]
        variables = f"__ROUTING_DOCTOR_ID={probe_id}" + (f",ROUTING_DOCTOR_AGI={agi_url}" if agi_url else "")
        done: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[probe_id] = done
        # An async Originate is answered once the Local channel is answered or gives up; the
        # report may come before that: wait for whichever tells first.
        originate = asyncio.ensure_future(
            self._ami.action(
                {
                    "Action": "Originate",
                    "Channel": "Local/probe@routing-doctor",
                    "Application": "Wait",
                    "Data": str(int(timeout_s)),  # until the probe hangs up by itself
                    "Async": "true",
                    "Timeout": str(int(timeout_s * 1000)),
                    "Variable": variables,
                },
                timeout_s=timeout_s + 5,
            )
        )
        try:
            await asyncio.wait({originate, done}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
            if not done.done() and originate.done():
                originate.result()  # a refusal raises here
                await asyncio.wait({done}, timeout=timeout_s)
            return done.result() if done.done() else None
        finally:
            self._waiting.pop(probe_id, None)
            if not originate.done():
                originate.cancel()
            await asyncio.gather(originate, return_exceptions=True)


async def check_rights(ami: AmiClient) -> Check:
    """The event filter the service sets at every login needs the AMI user's write = system."""
    try:
        # A filter that keeps out one event nobody sends: the same right, and nothing filtered.
        await ami.action({"Action": "Filter", "Operation": "Add", "Filter": "!Event: RoutingDoctorNothing"})
    except AmiError as exc:
        return _fail(
            "ami.rights",
            f"the AMI user may not set an event filter ({exc})",
            "give the AMI user write = system (and read = all) in manager.conf, then `manager reload`",
        )
    return _ok("ami.rights", "the AMI user may filter events, read AstDB and originate")


async def _context_exists(ami: AmiClient, context: str) -> bool:
    """Asterisk answers `dialplan show` of a context it lacks with an error (the CLI failed)."""
    try:
        output = await ami.command(f"dialplan show {context}")
    except AmiError as exc:
        if "output follows" in str(exc).lower():
            return False
        raise
    return "There is no existence of" not in output and f"'{context}'" in output


async def check_contexts(ami: AmiClient) -> Check:
    missing = [context for context in CONTEXTS if not await _context_exists(ami, context)]
    if missing:
        return _fail(
            "dialplan.contexts",
            f"not loaded in Asterisk: {', '.join(missing)}",
            "copy dialplan/extensions_routing.conf next to extensions.conf, add "
            "`#include extensions_routing.conf`, then `dialplan reload`",
        )
    return _ok("dialplan.contexts", f"all {len(CONTEXTS)} routing contexts are loaded")


async def _global(ami: AmiClient, name: str) -> str:
    """A dialplan global's value ("" when unset)."""
    reply = await ami.action({"Action": "Getvar", "Variable": name})
    return str(reply.get("Value", "") if isinstance(reply, Message) else "").strip()


async def check_globals(ami: AmiClient, config: Config) -> Check:
    values = {name: await _global(ami, name) for name in GLOBALS}
    empty = [name for name, value in values.items() if not value]
    if empty:
        return _fail(
            "dialplan.globals",
            f"not set: {', '.join(empty)}",
            "set them in the [globals] of extensions.conf (ROUTING_AGI = agi://HOST:PORT of asterisk.agi.listen, "
            "ROUTING_FAILSAFE_MAILBOX = the mailbox that answers when the service cannot)",
        )
    port = config.asterisk.agi.listen.rpartition(":")[2]
    if not values["ROUTING_AGI"].rstrip("/").endswith(f":{port}"):
        return _fail(
            "dialplan.globals",
            f"ROUTING_AGI is {values['ROUTING_AGI']}, but the service listens on {config.asterisk.agi.listen}",
            "make ROUTING_AGI agi://HOST:PORT with the port of asterisk.agi.listen",
        )
    return _ok("dialplan.globals", f"ROUTING_AGI={values['ROUTING_AGI']}, fail-safe mailbox {values[GLOBALS[1]]}")


async def check_astdb(ami: AmiClient, directory: Directory, store: Store) -> Check:
    wanted = astdb_entries(directory, store.agi_token())
    present = await ami.db_keys(FAMILY)
    wrong = sorted(key for key, value in wanted.items() if present.get(key) != value)
    if wrong:
        shown = ", ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        return _fail(
            "astdb",
            f"{len(wrong)} of {len(wanted)} entries missing or out of date in AstDB family {FAMILY}: {shown}",
            "start `routing run` (it writes them at every AMI login and reload); without them the fail-safe and "
            "the FastAGI secret are not current",
        )
    return _ok("astdb", f"all {len(wanted)} fail-safe entries and the FastAGI secret are current")


def _mailboxes(config: Config) -> set[str]:
    named = {config.switchboard.voicemail}
    named |= {p.voicemail for p in config.people if p.voicemail}
    named |= {u.voicemail for u in config.units if u.voicemail}
    return named


async def check_mailboxes(ami: AmiClient, config: Config) -> Check:
    try:
        entries = await ami.action_list({"Action": "VoicemailUsersList"})
    except AmiError as exc:
        if "no voicemail users" not in str(exc).lower():
            raise
        entries = []
    known = {f"{m.get('VoiceMailbox')}@{m.get('VMContext')}" for m in entries}
    named = _mailboxes(config)
    failsafe = await _global(ami, "ROUTING_FAILSAFE_MAILBOX")
    if failsafe:
        named.add(failsafe)  # the dialplan's own last resort (R3)
    missing = sorted(named - known)
    if missing:
        return _fail(
            "mailboxes",
            f"not in Asterisk's voicemail: {', '.join(missing)}",
            "add each BOX to its [context] in voicemail.conf (or correct the config), then `voicemail reload`",
        )
    return _ok("mailboxes", f"all {len(named)} mailboxes the config and the fail-safe name exist")


def _pjsip_endpoint(device: str) -> str | None:
    """PJSIP/endpoint, PJSIP/number@endpoint, PJSIP/endpoint/sip:…: the endpoint."""
    if not device.upper().startswith("PJSIP/"):
        return None
    first = device[len("PJSIP/") :].split("/", 1)[0]  # what follows a '/' is a SIP URI of its own
    return first.rpartition("@")[2]


def _local_context(device: str) -> str | None:
    if not device.startswith("Local/") or "@" not in device:
        return None
    return device.partition("@")[2].split("/", 1)[0]


async def check_devices(ami: AmiClient, directory: Directory) -> Check:
    devices = [*directory.devices(), directory.config.outbound.trunk.replace("{number}", "0")]
    try:
        endpoints = {str(m.get("ObjectName")) for m in await ami.action_list({"Action": "PJSIPShowEndpoints"})}
    except AmiError:
        endpoints = set()  # Asterisk answers "no endpoints found" with an error
    unknown, unchecked = [], []
    contexts: dict[str, bool] = {}
    for device in devices:
        endpoint = _pjsip_endpoint(device)
        context = _local_context(device)
        if endpoint is not None:
            if endpoint not in endpoints:
                unknown.append(device)
        elif context is not None:
            if context not in contexts:
                contexts[context] = await _context_exists(ami, context)
            if not contexts[context]:
                unknown.append(device)
        else:
            unchecked.append(device)
    if unknown:
        return _fail(
            "devices",
            f"unknown to Asterisk: {', '.join(sorted(unknown))}",
            "add a PJSIP endpoint of that name in pjsip.conf (or correct the device in the config)",
        )
    note = f"; {len(unchecked)} of other channel types not checked" if unchecked else ""
    return _ok("devices", f"all {len(devices) - len(unchecked)} devices the config names are known{note}")


async def check_probe(probe: Probe) -> list[Check]:
    """One real call: FastAGI reachable from Asterisk with the secret, and a prompt played."""
    report = await probe.call()
    if report is None:
        return [
            _fail(
                "agi.reachable",
                "the probe call did not report back",
                "is `dialplan/extensions_routing.conf` loaded (routing-doctor)? may the AMI user originate?",
            )
        ]
    action, agi_status, played = (str(report.get(k, "")) for k in ("Action", "Agi", "Played"))
    if action != "play":
        return [
            _fail(
                "agi.reachable",
                f"Asterisk could not get an answer from the service (AGISTATUS={agi_status or '?'}) at "
                f"{report.get('Agi_url', '?')}",
                "start `routing run`; check that ROUTING_AGI points at it, that asterisk.agi.allow lists Asterisk's "
                "address, and that the AstDB secret is current (the service logs agi.refused)",
            )
        ]
    reachable = _ok("agi.reachable", f"a probe call on a Local channel reached the service at {report.get('Agi_url')}")
    if played != "SUCCESS":
        return [
            reachable,
            _fail(
                "prompts",
                f"Asterisk could not play the service's prompt (PLAYBACKSTATUS={played or '?'})",
                "Asterisk must see prompts.dir at the same path (same host or a shared mount), or set prompts.http "
                "so the service serves the prompts to Asterisk",
            ),
        ]
    return [reachable, _ok("prompts", "Asterisk played the service's prompt")]


async def check_standby(ami: AmiClient, store: Store, probe: Probe) -> Check:
    """#17: whether a standby is set (ROUTING_AGI_STANDBY) and answers a probe call, and which
    instance sharing the store is the active one."""
    standby = await _global(ami, STANDBY_GLOBAL)
    try:
        holder = store.lease_holder(ACTIVE_LEASE)
        instances = store.instances()
    except StoreError as exc:
        return _fail("standby", f"the store cannot be read: {exc}", "check store.url")
    shared = f"{len(instances)} instance(s) in the store, active: {holder or 'none'}"
    if not standby:
        return _ok(
            "standby", f"none set (ROUTING_AGI_STANDBY is empty): without the service the fail-safe answers; {shared}"
        )
    report = await probe.call(agi_url=standby)
    if report is None or str(report.get("Action", "")) != "play":
        status = "no report" if report is None else f"AGISTATUS={report.get('Agi', '') or '?'}"
        return _fail(
            "standby",
            f"the standby at {standby} did not answer a probe call ({status}); {shared}",
            "start the second `routing run` (same config file and store, its own asterisk.agi.listen) and make "
            "ROUTING_AGI_STANDBY its agi://HOST:PORT; asterisk.agi.allow must list Asterisk's address",
        )
    return _ok("standby", f"the standby at {standby} answers a probe call; {shared}")


def check_store(store: Store) -> Check:
    try:
        store.installation_key()  # a write transaction (insert if absent)
    except StoreError as exc:
        return _fail("store", f"not writable: {exc}", "check store.url, and that the service's user may write there")
    return _ok("store", f"{store.name} is writable")


async def check_ari(config: Config) -> Check:
    ari = config.asterisk.ari
    try:
        password = read_secret(ari.password_env, ari.password_file)
    except SecretMissing as exc:
        return _fail("ari", str(exc), "give the ARI password through the environment variable or file the config names")
    url = f"{ari.url.rstrip('/')}/ari/asterisk/info"
    import aiohttp  # only for this check: the service loads no HTTP client it does not use

    from routing.ari.client import basic_auth

    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(url, headers=basic_auth(ari.username, password)) as response,
        ):
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return _fail("ari", f"{url}: {exc or type(exc).__name__}", "enable http.conf and ari.conf in Asterisk")
    if status != 200:
        return _fail("ari", f"{url} answered {status}", "check asterisk.ari.username and the password in ari.conf")
    return _ok("ari", f"ARI answers at {ari.url} as {ari.username}")


async def _guarded(name: str, check: Callable[[], Awaitable[Check]]) -> Check:
    try:
        return await check()
    except AmiError as exc:
        return _fail(name, f"AMI: {exc}", "give the AMI user read = all and write = system,call,originate,command")


async def run_checks(
    config: Config, directory: Directory, store: Store, ami: AmiClient, probe: Probe | None = None
) -> list[Check]:
    """Every check of a logged-in AMI session, in the order an admin would go."""
    checks = [
        await _guarded("ami.rights", lambda: check_rights(ami)),
        await _guarded("dialplan.contexts", lambda: check_contexts(ami)),
        await _guarded("dialplan.globals", lambda: check_globals(ami, config)),
        await _guarded("astdb", lambda: check_astdb(ami, directory, store)),
        await _guarded("mailboxes", lambda: check_mailboxes(ami, config)),
        await _guarded("devices", lambda: check_devices(ami, directory)),
    ]
    probe = probe or Probe(ami)  # one listener for both probe calls
    try:
        checks += await check_probe(probe)
    except AmiError as exc:
        checks.append(_fail("agi.reachable", f"AMI: {exc}", "give the AMI user write = originate"))
    checks.append(await _guarded("standby", lambda: check_standby(ami, store, probe)))
    checks.append(check_store(store))
    checks.append(await check_ari(config))
    return checks
