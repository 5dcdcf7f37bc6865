"""One exception for every ARI request that did not do what was asked."""

from __future__ import annotations

from routing.calllog.events import LogId

# Asterisk answers 400 "Channel not found" (not 404) when a bridge is asked to add or remove a
# channel that is gone (bridges.json); the message is the only way to tell.
_NOT_FOUND = "not found"


class AriError(Exception):
    """An ARI request failed: `status` is the HTTP status (None: no answer — timeout, refused
    connection), `message` Asterisk's own words. Stable log id: ari.request_failed.

    `gone` tells the normal case apart: a caller hanging up while an operator acts on the call
    leaves nothing to act on, which is not a fault."""

    log_id = LogId.ARI_REQUEST_FAILED.value

    def __init__(self, method: str, path: str, status: int | None, message: str) -> None:
        self.method = method
        self.path = path  # never holds a credential: those go in the Authorization header
        self.status = status
        self.message = message
        where = f"{method} {path}"
        super().__init__(f"{where}: {status} {message}" if status is not None else f"{where}: {message}")

    @property
    def gone(self) -> bool:
        """The channel, bridge or playback asked for does not exist (any more)."""
        if self.status == 404:
            return True
        return self.status == 400 and _NOT_FOUND in self.message.lower()

    @property
    def unanswered(self) -> bool:
        """Asterisk did not answer at all (down, unreachable, too slow)."""
        return self.status is None
