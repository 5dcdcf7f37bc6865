"""The switchboard console (#14): the page the operators work in, served by the switchboard's
own aiohttp app beside its API. The page is plain files shipped in the package
(`routing/switchboard/static/`: HTML, CSS, JavaScript modules; no build step, nothing fetched
from elsewhere). They hold no call data, so they are served without a session; everything the
page shows comes from `/api/*`, which keeps needing one (R12).

    GET /                 the page (login form, then the console)
    GET /console/{name}   its files: only those shipped, read once at start

Every file carries headers that keep it a page of this server only: a Content-Security-Policy
without inline script or style and with `connect-src 'self'` (the API and its WebSocket), no
framing, no referrer, no caching (a shared workstation keeps no copy)."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

PAGE = "index.html"
FILES_PREFIX = "/console/"
CONTENT_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def is_console_path(path: str) -> bool:
    """The page and its files: what a browser may fetch before anyone has logged in."""
    return path == "/" or path.startswith(FILES_PREFIX)


def console_files() -> dict[str, tuple[bytes, str]]:
    """Every file the page is made of, by name: its bytes and content type."""
    folder = resources.files("routing.switchboard").joinpath("static")
    found: dict[str, tuple[bytes, str]] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in CONTENT_TYPES:
            found[entry.name] = (entry.read_bytes(), CONTENT_TYPES[suffix])
    return found


def add_console(app: web.Application) -> None:
    """Serve the page at `/` and its files under `/console/`. Only names read at start are
    served: a request cannot reach any other file."""
    files = console_files()
    if PAGE not in files:
        raise RuntimeError(f"the console's {PAGE} is not in the package (routing/switchboard/static)")

    def respond(name: str) -> web.Response:
        body, content_type = files[name]
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=SECURITY_HEADERS)

    async def page(_request: web.Request) -> web.Response:
        return respond(PAGE)

    async def file(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in files:
            raise web.HTTPNotFound(text="no such file", headers=SECURITY_HEADERS)
        return respond(name)

    app.router.add_get("/", page)
    app.router.add_get(FILES_PREFIX + "{name}", file)
