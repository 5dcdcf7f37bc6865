"""Schema v1 of the admins' YAML file. Unknown keys are errors: a typo never passes silently.

Cross-references (a cover that names no one, a duplicate extension …) are checked in
`crosschecks.py`, after every value here has its own type right.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from routing.config.fields import (
    AbsolutePath,
    DialString,
    Dtmf,
    EnvName,
    Extension,
    FeatureCode,
    HttpUrl,
    Identifier,
    ListenAddress,
    Mailbox,
    Network,
    PhoneNumber,
    Prefix,
    PromptName,
    StoreUrl,
    TrunkTemplate,
)
from routing.config.hours import parse_day_hours, parse_day_key

HOLIDAY_CATEGORIES = ("public", "de_facto", "bank", "optional")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_day_key(key: str) -> str:
    parse_day_key(key)
    return key


def _check_day_hours(value: object) -> object:
    """Runs before pydantic's own check, so a bare number gets one clear message rather than
    one per branch of str | list[str]."""
    parse_day_hours(value)
    return value


DayKey = Annotated[str, AfterValidator(_check_day_key)]
DayHours = Annotated[str | list[str], BeforeValidator(_check_day_hours)]
# A day given twice (mon-fri and wed) is reported by crosschecks.py, at the key that repeats it.
WeeklyHours = dict[DayKey, DayHours]


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"'{name}' is not an IANA time zone, e.g. Europe/Stockholm") from exc
    return name


def _check_country(code: str) -> str:
    if code.lower() == "none":
        return "none"
    if len(code) != 2 or not code.isalpha():
        raise ValueError(f"'{code}' is not a country code (two letters, e.g. SE) or none")
    from routing.config.hours import holiday_calendar

    holiday_calendar(code, ("public",))
    return code.upper()


class FallbackItem(StrEnum):
    """One link of the R2/R3 chain after no answer, busy or unavailable."""

    COVER = "cover"  # a person's cover position; for a unit, its duty phone
    SWITCHBOARD = "switchboard"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"


class CalendarConfig(Model):
    holidays: Annotated[str, AfterValidator(_check_country)] = "SE"
    holiday_categories: Annotated[
        tuple[Literal["public", "de_facto", "bank", "optional"], ...], Field(validate_default=True)
    ] = ("public", "de_facto")
    closed_days: tuple[date, ...] = ()
    special_hours: dict[date, DayHours] = Field(default_factory=dict)

    @field_validator("holiday_categories")
    @classmethod
    def _categories_of_country(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """Not every country has every category (NO has public holidays only): refuse here
        what would otherwise fail when the service starts."""
        country = info.data.get("holidays")
        if country is None or country == "none":
            return value
        import holidays as holiday_tables  # heavy import, only needed when a country is set

        supported = holiday_tables.country_holidays(country).supported_categories
        for category in value:
            if category not in supported:
                raise ValueError(
                    f"the holiday calendar of {country} has no '{category}' holidays: "
                    f"use {', '.join(sorted(supported))}"
                )
        return value


class RingConfig(Model):
    max_rings: int = Field(default=5, ge=1, le=5)  # R1: never more than five signals
    ring_period_s: float = Field(default=6.0, gt=0, le=30)
    # A device that has not started ringing after this long is passed over (the next step
    # starts at once instead of the caller hearing silence for the whole ring limit).
    progress_timeout_s: float = Field(default=5.0, gt=0, le=30)


class FeaturesConfig(Model):
    """Feature codes dialled from the municipality's phones (R11)."""

    referral_set: FeatureCode = "*21"
    referral_clear: FeatureCode = "#21"


def _hours(text: str | float | int) -> float:
    """'4h', '90m', '1h30m' or a number of hours -> hours."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        match = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+)m)?", str(text).strip())
        if match is None or not any(match.groups()):
            raise ValueError(f"'{text}' is not a duration: write e.g. 4h, 90m or 1h30m")
        value = float(match.group(1) or 0) + int(match.group(2) or 0) / 60
    if value <= 0:
        raise ValueError("the duration must be longer than nothing")
    return value


class FollowUpConfig(Model):
    """What is followed up (R4, R19, R20)."""

    # An open callback older than this many working hours is a policy violation (R4).
    callback_within: Annotated[float, BeforeValidator(_hours)] = 4.0


class PromptsHttpConfig(Model):
    """The service serves its prompts to Asterisk over HTTP (Asterisk plays http:// addresses
    and caches what it fetched): no folder needs to be shared with Asterisk's host."""

    listen: ListenAddress = "127.0.0.1:4574"
    url: HttpUrl | None = None  # how Asterisk reaches `listen`; default http://LISTEN


class PromptsConfig(Model):
    """Sound files: the admins' recordings (NAME.wav …) and generated speech (tts/). Asterisk
    plays them from `dir` by path (the same path on its host: one machine, or a shared
    mount), or, with `http`, fetches them from the service."""

    dir: AbsolutePath = "/var/lib/routing/prompts"
    voice: Annotated[str, Field(pattern=r"^[a-z]{2,3}([-+][A-Za-z0-9-]+)?$")] = "sv"
    http: PromptsHttpConfig | None = None

    @property
    def base_url(self) -> str | None:
        """Where Asterisk fetches prompts from, without a trailing slash; None: by path."""
        if self.http is None:
            return None
        return (self.http.url or f"http://{self.http.listen}").rstrip("/")


class CallbackConfig(Model):
    digit: Dtmf = "1"
    timeout_s: float = Field(default=8.0, gt=0, le=60)


def _exactly_one_secret(env: str | None, file: str | None, what: str) -> None:
    """Secrets are never in this file: exactly one environment variable or file names one."""
    if env is not None and file is not None:
        raise ValueError(f"give one of {what}_env and {what}_file, not both")
    if env is None and file is None:
        raise ValueError(
            f"the {what} is missing: secrets are never written in this file, so name an "
            f"environment variable ({what}_env) or a file ({what}_file) that holds it"
        )


class AmiConfig(Model):
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = "routing"
    secret_env: EnvName | None = None
    secret_file: str | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> AmiConfig:
        _exactly_one_secret(self.secret_env, self.secret_file, "secret")
        return self


class AriConfig(Model):
    url: HttpUrl = "http://127.0.0.1:8088"
    username: str = "routing"
    password_env: EnvName | None = None
    password_file: str | None = None
    app: Identifier = "routing"

    @model_validator(mode="after")
    def _one_password(self) -> AriConfig:
        _exactly_one_secret(self.password_env, self.password_file, "password")
        return self


class AgiConfig(Model):
    listen: ListenAddress = "127.0.0.1:4573"
    # Only Asterisk may speak FastAGI to the service: requests from other addresses are refused
    # (and the call takes the dialplan's fail-safe). Add the Asterisk host's address when the
    # service listens on a network address.
    allow: Annotated[tuple[Network, ...], Field(min_length=1)] = ("127.0.0.1", "::1")


class AsteriskConfig(Model):
    ami: AmiConfig
    ari: AriConfig
    agi: AgiConfig = AgiConfig()


OperatorId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


class Operator(Model):
    """A switchboard operator (telefonist, #13): who may log in to the switchboard, and the
    phone (headset) their answered calls are connected to."""

    id: OperatorId
    name: Annotated[str, Field(min_length=1)]
    device: DialString


class Switchboard(Model):
    name: str = "Växeln"
    extension: Extension
    device: DialString
    voicemail: Mailbox
    operators: tuple[Operator, ...] = ()
    # The operators' accounts (id and password hash, one a line), managed by `routing operators`;
    # mode 0600 (R12: the switchboard sees callers' numbers).
    accounts_file: AbsolutePath = "/etc/routing/operators"
    # How long a caller may wait in the switchboard's queue before its own chain takes over
    # (voicemail/callback, R2/R3); default: the ring limit (R1).
    queue_timeout_s: Annotated[float, Field(gt=0, le=600)] | None = None
    # A held caller comes back to the operator who held them after this long (#13).
    hold_recall_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # The switchboard's API and console (served when there are operators), and its sessions.
    listen: ListenAddress = "127.0.0.1:4580"
    session_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 60
    session_hours: Annotated[int, Field(ge=1, le=24)] = 12

    @model_validator(mode="after")
    def _operators_once(self) -> Switchboard:
        seen: set[str] = set()
        for operator in self.operators:
            if operator.id in seen:
                raise ValueError(f"operator '{operator.id}' is listed twice")
            seen.add(operator.id)
        return self


class Approval(Model):
    """A head of unit's written approval (R14, R18), kept for the yearly review (R19)."""

    approved_by: Annotated[str, Field(min_length=2)]
    approved_on: date


def _approval(rule: str, key: str, what: str) -> Callable[[object], object]:
    """`forward_to_mobile: true` is the natural mistake: say what the approval must hold."""

    def check(value: object) -> object:
        if value is not None and not isinstance(value, dict):
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            raise ValueError(
                f"{rule}: {what} needs the head of unit's written approval {{approved_by, approved_on}}, "
                f"not {shown}: write {key}: {{approved_by: NAME, approved_on: YYYY-MM-DD}} "
                "or leave the key out"
            )
        return value

    return check


class Unit(Model):
    id: Identifier
    name: Annotated[str, Field(min_length=1)]
    number: Extension
    members: tuple[Identifier, ...] = ()
    telephone_officer: Identifier
    phone_hours: WeeklyHours | None = None
    duty_phone: Extension
    hours_announcement: PromptName | None = None
    voicemail: Mailbox | None = None
    fallback: tuple[FallbackItem, ...] | None = None


def _loopback_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host == "::1" or host.startswith("127.")


def _check_calendar_url(value: object) -> object:
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/?#]+\S*", value):
        raise ValueError(f"'{value}' is not an http:// or https:// address, e.g. \"https://cal.example.se/dav/anna/\"")
    return value


def _check_feed(value: object) -> object:
    """A person's iCalendar feed: its address, or a file the service can read."""
    if isinstance(value, str) and (re.fullmatch(r"https?://[^\s/?#]+\S*", value) or re.fullmatch(r"/[^\x00]+", value)):
        return value
    raise ValueError(
        f"'{value}' is not a calendar: write an iCalendar feed's address (\"https://…\"), a file's absolute"
        " path (/…), or for CalDAV a mapping {url, username, password_env or password_file}"
    )


class CalDavCalendar(Model):
    """A person's calendar on a CalDAV server (#15); the password never in this file (R12)."""

    url: Annotated[str, BeforeValidator(_check_calendar_url)]
    username: Annotated[str, Field(min_length=1)]
    password_env: EnvName | None = None
    password_file: str | None = None

    @model_validator(mode="after")
    def _one_password(self) -> CalDavCalendar:
        _exactly_one_secret(self.password_env, self.password_file, "password")
        if self.url.startswith("http://") and not _loopback_host(self.url):
            raise ValueError(
                "R12: a CalDAV password is sent only over https:// (http:// only to this machine, 127.0.0.1)"
            )
        return self


def _calendar_kind(value: object) -> str:
    return "caldav" if isinstance(value, dict | CalDavCalendar) else "feed"


# A person's calendar (#15): an iCalendar feed (address or file) or a CalDAV calendar.
PersonCalendar = Annotated[
    Annotated[Annotated[str, BeforeValidator(_check_feed)], Tag("feed")] | Annotated[CalDavCalendar, Tag("caldav")],
    Discriminator(_calendar_kind),
]


class CalendarSyncConfig(Model):
    """How the service reads people's calendars (#15)."""

    every_minutes: int = Field(default=5, ge=1, le=24 * 60)
    # While a feed cannot be read its last good events stay in force this long, then are
    # dropped (a week at most: the service reads eight days ahead).
    keep_hours: int = Field(default=24, ge=1, le=7 * 24)


class Person(Model):
    id: Identifier
    name: Annotated[str, Field(min_length=1)]
    unit: Identifier
    extension: Extension
    device: DialString
    mobile: PhoneNumber | None = None
    cover: Extension | None = None
    voicemail: Mailbox | None = None
    forward_to_mobile: Annotated[
        Approval | None,
        BeforeValidator(_approval("R14", "forward_to_mobile", "forwarding desk calls to a mobile")),
    ] = None
    pay_services: Annotated[
        Approval | None,
        BeforeValidator(_approval("R18", "pay_services", "calling pay services (premium rate)")),
    ] = None
    fallback: tuple[FallbackItem, ...] | None = None
    calendar: PersonCalendar | None = None  # referrals from the calendar (#15, R11)


class Phone(Model):
    """A shared phone that is nobody's own: a duty phone, a reception desk."""

    extension: Extension
    name: Annotated[str, Field(min_length=1)]
    device: DialString
    unit: Identifier | None = None


class Outbound(Model):
    trunk: TrunkTemplate = "PJSIP/{number}@operator"
    barred_prefixes: tuple[Prefix, ...] = ("0900", "0939", "0944", "099")
    private_prefix: Prefix | None = None


class LoggingConfig(Model):
    format: Literal["json", "console", "auto"] = "json"
    level: Literal["debug", "info", "warning", "error"] = "info"
    mask_numbers: bool = True
    # Where `routing run` writes its log: a file (created 0600, or 0640 with group_read for an
    # operators' group, R12), or standard error when absent (systemd's journal).
    file: AbsolutePath | None = None
    group_read: bool = False


class StoreConfig(Model):
    url: StoreUrl = "sqlite:///var/lib/routing/routing.db"
    # Call records older than this are deleted (R12: keep call data no longer than needed).
    retention_days: int = Field(default=90, ge=1, le=3650)
    # The report's daily totals (counts per day, unit and person; no numbers) are kept this long,
    # so last year's figures (R19, R20) outlive the calls (#12). Five years by default.
    totals_retention_days: int = Field(default=1826, ge=1, le=36500)

    @model_validator(mode="after")
    def _totals_outlive_calls(self) -> StoreConfig:
        if self.totals_retention_days < self.retention_days:
            raise ValueError(
                f"totals_retention_days ({self.totals_retention_days}) must be at least retention_days"
                f" ({self.retention_days}): the daily totals are what is left of calls once they are pruned"
            )
        return self


class Config(Model):
    version: Literal[1]
    timezone: Annotated[str, AfterValidator(_check_zone)] = "Europe/Stockholm"
    calendar: CalendarConfig = CalendarConfig()
    calendar_sync: CalendarSyncConfig = CalendarSyncConfig()
    working_hours: WeeklyHours
    ring: RingConfig = RingConfig()
    callback: CallbackConfig = CallbackConfig()
    max_redirects: int = Field(default=3, ge=1, le=10)
    asterisk: AsteriskConfig
    switchboard: Switchboard
    units: tuple[Unit, ...] = ()
    people: tuple[Person, ...] = ()
    phones: tuple[Phone, ...] = ()
    fallback: tuple[FallbackItem, ...] = (
        FallbackItem.COVER,
        FallbackItem.VOICEMAIL,
        FallbackItem.CALLBACK,
    )
    outbound: Outbound = Outbound()
    features: FeaturesConfig = FeaturesConfig()
    follow_up: FollowUpConfig = FollowUpConfig()
    prompts: PromptsConfig = PromptsConfig()
    logging: LoggingConfig = LoggingConfig()
    store: StoreConfig = StoreConfig()
    # The file it was read from, and its hash: the config's version, logged at each load and
    # kept with every call planned under it (#16). Set by the loader; empty for a config built
    # in code.
    _source_text: str = PrivateAttr(default="")
    _source_hash: str = PrivateAttr(default="")

    @property
    def source_text(self) -> str:
        return self._source_text

    @property
    def source_hash(self) -> str:
        return self._source_hash
