"""The REST half of ARI: exactly the calls the switchboard makes, typed, each with a timeout.

The credentials travel in the Authorization header (HTTP basic auth, which ARI accepts like its
api_key parameter), never in a URL: aiohttp puts URLs in its exception messages, and those reach
the log. Every failure is an AriError (status, Asterisk's message, `gone`)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp

from routing.ari.errors import AriError
from routing.ari.models import Application, AsteriskInfo, Bridge, Channel, Playback

DEFAULT_TIMEOUT_S = 5.0
Params = Mapping[str, str | int]


def _segment(value: str) -> str:
    """An id inside a path: ids come from Asterisk or the caller of this client, never trusted."""
    return quote(value, safe="")


def _joined_args(args: Sequence[str]) -> str:
    """Stasis splits appArgs at commas: an argument with one would arrive as two."""
    for arg in args:
        if "," in arg:
            raise ValueError(f"a Stasis argument cannot hold a comma: {arg!r}")
    return ",".join(args)


def _media(media: str | Sequence[str]) -> str:
    """`sound:beep`, `recording:…`, `tone:ring`, `digits:…` or an http(s) URL (Asterisk fetches it
    through res_http_media_cache); several are played one after the other."""
    items = [media] if isinstance(media, str) else list(media)
    if not items:
        raise ValueError("nothing to play")
    return ",".join(items)


def basic_auth(username: str, password: str) -> dict[str, str]:
    """The Authorization header for ARI (built here: aiohttp's `auth=BasicAuth(...)` is deprecated)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


class AriClient:
    """`base_url` is Asterisk's HTTP server (asterisk.ari.url, e.g. http://127.0.0.1:8088): the
    client adds /ari. `app` is the Stasis application whose channels this client controls."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        app: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.username = username
        self.timeout_s = timeout_s
        self._headers = basic_auth(username, password)
        self._session: aiohttp.ClientSession | None = None

    # -- lifetime ---------------------------------------------------------------------------------

    def session(self) -> aiohttp.ClientSession:
        """One session (connection pool) per client, made on first use inside the event loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AriClient:
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.close()

    def events_url(self) -> str:
        """The events WebSocket of this app: only its own channels and bridges (subscribeAll=false)."""
        ws_base = "ws" + self.base_url[len("http") :] if self.base_url.startswith("http") else self.base_url
        return f"{ws_base}/ari/events?app={quote(self.app, safe='')}&subscribeAll=false"

    # -- the one request path ---------------------------------------------------------------------

    async def request(
        self, method: str, path: str, *, params: Params | None = None, body: Mapping[str, Any] | None = None
    ) -> Any:
        """`path` below /ari. The decoded JSON answer (None for 204). AriError for anything else."""
        url = f"{self.base_url}/ari{path}"
        query = {key: str(value) for key, value in (params or {}).items()}
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self.session().request(method, url, params=query, json=body) as response:
                    text = await response.text()
                    status = response.status
        except TimeoutError:
            raise AriError(method, path, None, f"no answer within {self.timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise AriError(method, path, None, str(exc) or type(exc).__name__) from None
        if status >= 300:
            raise AriError(method, path, status, _message(text))
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise AriError(method, path, status, "the answer is not JSON") from None

    async def _typed(self, method: str, path: str, reader: Any, **kwargs: Any) -> Any:
        body = await self.request(method, path, **kwargs)
        try:
            return reader(body)
        except ValueError as exc:
            raise AriError(method, path, 200, str(exc)) from None

    # -- asterisk, applications -------------------------------------------------------------------

    async def info(self) -> AsteriskInfo:
        """Asterisk's version and start time: the health check."""
        info: AsteriskInfo = await self._typed("GET", "/asterisk/info", AsteriskInfo.from_json)
        return info

    async def application(self, name: str | None = None) -> Application:
        """What the app (default this client's) is subscribed to: its channels and bridges."""
        app: Application = await self._typed(
            "GET", f"/applications/{_segment(name or self.app)}", Application.from_json
        )
        return app

    # -- channels ---------------------------------------------------------------------------------

    async def channels(self) -> list[Channel]:
        """Every channel in Asterisk (not only the app's: see `application`)."""
        body = await self.request("GET", "/channels")
        return _list(body, Channel.from_json, "GET", "/channels")

    async def channel(self, channel_id: str) -> Channel:
        channel: Channel = await self._typed("GET", f"/channels/{_segment(channel_id)}", Channel.from_json)
        return channel

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_segment(channel_id)}/answer")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """`reason`: normal, busy, congestion, no_answer, timeout, rejected, unallocated, … (channels.json)."""
        await self.request("DELETE", f"/channels/{_segment(channel_id)}", params={"reason": reason})

    async def ring(self, channel_id: str) -> None:
        """The caller hears ringing (indicated, not played) until `ring_stop` or an answer."""
        await self.request("POST", f"/channels/{_segment(channel_id)}/ring")

    async def ring_stop(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_segment(channel_id)}/ring")

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        """Music on hold for the channel (the default class unless `moh_class`)."""
        params: dict[str, str | int] = {"mohClass": moh_class} if moh_class is not None else {}
        await self.request("POST", f"/channels/{_segment(channel_id)}/moh", params=params)

    async def stop_moh(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_segment(channel_id)}/moh")

    async def play(
        self, channel_id: str, media: str | Sequence[str], *, playback_id: str | None = None, lang: str | None = None
    ) -> Playback:
        params: dict[str, str | int] = {"media": _media(media)}
        if playback_id is not None:
            params["playbackId"] = playback_id
        if lang is not None:
            params["lang"] = lang
        playback: Playback = await self._typed(
            "POST", f"/channels/{_segment(channel_id)}/play", Playback.from_json, params=params
        )
        return playback

    async def continue_in_dialplan(
        self,
        channel_id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        """The channel leaves the app; Stasis() returns and the dialplan goes on (by default at
        the priority after Stasis())."""
        params: dict[str, str | int] = {}
        for key, value in (("context", context), ("extension", extension), ("priority", priority), ("label", label)):
            if value is not None:
                params[key] = value
        await self.request("POST", f"/channels/{_segment(channel_id)}/continue", params=params)

    async def redirect(self, channel_id: str, endpoint: str) -> None:
        """Redirect the channel's far end to `endpoint` (same technology, e.g. PJSIP/5001)."""
        await self.request("POST", f"/channels/{_segment(channel_id)}/redirect", params={"endpoint": endpoint})

    async def originate_into_app(
        self,
        endpoint: str,
        args: Sequence[str] = (),
        *,
        caller_id: str | None = None,
        timeout_s: int | None = None,
        variables: Mapping[str, str] | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
    ) -> Channel:
        """Call `endpoint` (e.g. PJSIP/5001, Local/x@ctx); once it answers it enters this client's
        app with `args` (a StasisStart). `originator`: the channel it is on behalf of."""
        params: dict[str, str | int] = {"endpoint": endpoint, "app": self.app}
        if args:
            params["appArgs"] = _joined_args(args)
        return await self._originate(params, caller_id, timeout_s, variables, channel_id, other_channel_id, originator)

    async def originate_into_dialplan(
        self,
        endpoint: str,
        *,
        context: str,
        extension: str,
        priority: int = 1,
        caller_id: str | None = None,
        timeout_s: int | None = None,
        variables: Mapping[str, str] | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
    ) -> Channel:
        """Call `endpoint`; once it answers it runs `extension`@`context`."""
        params: dict[str, str | int] = {
            "endpoint": endpoint,
            "context": context,
            "extension": extension,
            "priority": priority,
        }
        return await self._originate(params, caller_id, timeout_s, variables, channel_id, other_channel_id, originator)

    async def _originate(
        self,
        params: dict[str, str | int],
        caller_id: str | None,
        timeout_s: int | None,
        variables: Mapping[str, str] | None,
        channel_id: str | None,
        other_channel_id: str | None,
        originator: str | None,
    ) -> Channel:
        for key, value in (
            ("callerId", caller_id),
            ("timeout", timeout_s),
            ("channelId", channel_id),
            ("otherChannelId", other_channel_id),
            ("originator", originator),
        ):
            if value is not None:
                params[key] = value
        body = {"variables": dict(variables)} if variables else None
        channel: Channel = await self._typed("POST", "/channels", Channel.from_json, params=params, body=body)
        return channel

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        await self.request(
            "POST", f"/channels/{_segment(channel_id)}/variable", params={"variable": name, "value": value}
        )

    async def get_variable(self, channel_id: str, name: str) -> str:
        """The variable's value; AriError 404 (`gone`) also when the variable is not set."""
        body = await self.request("GET", f"/channels/{_segment(channel_id)}/variable", params={"variable": name})
        value = body.get("value") if isinstance(body, Mapping) else None
        return value if isinstance(value, str) else ""

    # -- bridges ----------------------------------------------------------------------------------

    async def bridges(self) -> list[Bridge]:
        body = await self.request("GET", "/bridges")
        return _list(body, Bridge.from_json, "GET", "/bridges")

    async def bridge(self, bridge_id: str) -> Bridge:
        bridge: Bridge = await self._typed("GET", f"/bridges/{_segment(bridge_id)}", Bridge.from_json)
        return bridge

    async def create_bridge(
        self, bridge_type: str = "mixing", *, bridge_id: str | None = None, name: str | None = None
    ) -> Bridge:
        """`bridge_type`: comma-separated mixing, holding, dtmf_events, proxy_media."""
        params: dict[str, str | int] = {"type": bridge_type}
        if bridge_id is not None:
            params["bridgeId"] = bridge_id
        if name is not None:
            params["name"] = name
        bridge: Bridge = await self._typed("POST", "/bridges", Bridge.from_json, params=params)
        return bridge

    async def add_channel(self, bridge_id: str, channel_id: str | Sequence[str], *, role: str | None = None) -> None:
        """A gone channel is a 400 "Channel not found" here (still `gone`)."""
        params: dict[str, str | int] = {"channel": _ids(channel_id)}
        if role is not None:
            params["role"] = role
        await self.request("POST", f"/bridges/{_segment(bridge_id)}/addChannel", params=params)

    async def remove_channel(self, bridge_id: str, channel_id: str | Sequence[str]) -> None:
        await self.request(
            "POST", f"/bridges/{_segment(bridge_id)}/removeChannel", params={"channel": _ids(channel_id)}
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        """The channels in it stay in the app (each gets a ChannelLeftBridge)."""
        await self.request("DELETE", f"/bridges/{_segment(bridge_id)}")

    async def start_bridge_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        params: dict[str, str | int] = {"mohClass": moh_class} if moh_class is not None else {}
        await self.request("POST", f"/bridges/{_segment(bridge_id)}/moh", params=params)

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_segment(bridge_id)}/moh")

    # -- playbacks --------------------------------------------------------------------------------

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{_segment(playback_id)}")


def _ids(channel_id: str | Sequence[str]) -> str:
    return channel_id if isinstance(channel_id, str) else ",".join(channel_id)


def _list(body: object, reader: Any, method: str, path: str) -> list[Any]:
    if not isinstance(body, list):
        raise AriError(method, path, 200, f"ARI sent {type(body).__name__} where a list belongs")
    try:
        return [reader(item) for item in body]
    except ValueError as exc:
        raise AriError(method, path, 200, str(exc)) from None


def _message(text: str) -> str:
    """Asterisk's error body is {"message": "..."}; anything else is passed on, shortened."""
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:200]
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])
    return text.strip()[:200]
