"""What reading a calendar can go wrong with, apart from the libraries that read it: the
service imports these without loading icalendar and its kin until a calendar is configured."""

from __future__ import annotations


class FeedUnreachable(Exception):
    """The feed could not be read (network, HTTP status, file, CalDAV login): the last good
    events are kept. Stable log id: calendar.unreachable."""

    log_id = "calendar.unreachable"


class FeedMalformed(Exception):
    """The feed was read but is not a calendar the service can use: nothing changes.
    Stable log id: calendar.malformed."""

    log_id = "calendar.malformed"
