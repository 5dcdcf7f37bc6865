"""The operators' logins (#13): a session is a random token in an HttpOnly, SameSite=Strict
cookie, with a second random token the page sends back in a header on every change (a
cross-site form cannot set one: CSRF). A session ends at logout, after `idle` without a
request, or `longest` after login, whichever is first; sessions are in memory, so a restart of
the service logs everyone out (the page says so and asks again).

Too many wrong passwords for one operator id lock that id for a while (a guessing script gets
nowhere; the operator is told to wait, not that the password was right)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=5)


@dataclass
class Session:
    operator: str
    token: str
    csrf: str
    started: datetime
    seen: datetime


@dataclass
class Sessions:
    clock: Callable[[], datetime]
    idle: timedelta = timedelta(minutes=60)
    longest: timedelta = timedelta(hours=12)
    _by_token: dict[str, Session] = field(default_factory=dict)
    _failures: dict[str, list[datetime]] = field(default_factory=dict)

    def start(self, operator: str) -> Session:
        now = self.clock()
        session = Session(operator, secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now)
        self._by_token[session.token] = session
        self._failures.pop(operator, None)
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of `token` (and it is seen now); None if there is none or it expired."""
        if not token:
            return None
        session = self._by_token.get(token)
        if session is None:
            return None
        now = self.clock()
        if now - session.seen > self.idle or now - session.started > self.longest:
            del self._by_token[token]
            return None
        session.seen = now
        return session

    def alive(self, token: str) -> bool:
        """Whether the session still stands, without counting this as the operator's activity
        (a live stream must not keep an unattended console logged in)."""
        session = self._by_token.get(token)
        if session is None:
            return False
        now = self.clock()
        if now - session.seen > self.idle or now - session.started > self.longest:
            del self._by_token[token]
            return False
        return True

    def end(self, token: str) -> Session | None:
        return self._by_token.pop(token, None)

    def expires_at(self, session: Session) -> datetime:
        return min(session.seen + self.idle, session.started + self.longest)

    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(session.csrf, sent)

    def locked(self, operator: str) -> bool:
        now = self.clock()
        recent = [t for t in self._failures.get(operator, []) if now - t < FAILURE_WINDOW]
        self._failures[operator] = recent
        return len(recent) >= MAX_FAILURES

    def failed(self, operator: str) -> None:
        self._failures.setdefault(operator, []).append(self.clock())
