"""Schema v1 of the admins' YAML file. Unknown keys are errors: a typo never passes silently.

Cross-references (a cover that names no one, a duplicate extension …) are checked in
`crosschecks.py`, after every value here has its own type right.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from routing.config.fields import (
    DialString,
    Dtmf,
    EnvName,
    Extension,
    Identifier,
    Mailbox,
    PhoneNumber,
    Prefix,
    PromptName,
)
from routing.policy.hours import WeekSchedule, parse_day_hours, parse_day_key

HOLIDAY_CATEGORIES = ("public", "de_facto", "bank", "optional")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_day_key(key: str) -> str:
    parse_day_key(key)
    return key


def _check_day_hours(value: str | list[str]) -> str | list[str]:
    parse_day_hours(value)
    return value


def _check_week(mapping: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
    WeekSchedule.from_mapping(mapping)
    return mapping


DayKey = Annotated[str, AfterValidator(_check_day_key)]
DayHours = Annotated[str | list[str], AfterValidator(_check_day_hours)]
WeeklyHours = Annotated[dict[DayKey, DayHours], AfterValidator(_check_week)]


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
    from routing.policy.hours import holiday_calendar

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
    holiday_categories: tuple[Literal["public", "de_facto", "bank", "optional"], ...] = (
        "public",
        "de_facto",
    )
    closed_days: tuple[date, ...] = ()
    special_hours: dict[date, DayHours] = Field(default_factory=dict)


class RingConfig(Model):
    max_rings: int = Field(5, ge=1, le=20)
    ring_period_s: float = Field(6.0, gt=0, le=30)


class CallbackConfig(Model):
    digit: Dtmf = "1"
    timeout_s: float = Field(8.0, gt=0, le=60)


def _exactly_one_secret(env: str | None, file: str | None, what: str) -> None:
    """Secrets are never in this file: exactly one environment variable or file names one."""
    if (env is None) == (file is None):
        raise ValueError(f"name the {what} with exactly one of {what}_env or {what}_file")


class AmiConfig(Model):
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "routing"
    secret_env: EnvName | None = None
    secret_file: str | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> AmiConfig:
        _exactly_one_secret(self.secret_env, self.secret_file, "secret")
        return self


class AriConfig(Model):
    url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(:\d+)?/?$")] = "http://127.0.0.1:8088"
    username: str = "routing"
    password_env: EnvName | None = None
    password_file: str | None = None
    app: Identifier = "routing"

    @model_validator(mode="after")
    def _one_password(self) -> AriConfig:
        _exactly_one_secret(self.password_env, self.password_file, "password")
        return self


class AgiConfig(Model):
    listen: Annotated[str, Field(pattern=r"^[0-9A-Za-z.:\[\]-]+:\d{1,5}$")] = "127.0.0.1:4573"


class AsteriskConfig(Model):
    ami: AmiConfig
    ari: AriConfig
    agi: AgiConfig = AgiConfig()


class Switchboard(Model):
    name: str = "Växeln"
    extension: Extension
    device: DialString
    voicemail: Mailbox


class Approval(Model):
    """A head of unit's written approval (R14, R18), kept for the yearly review (R19)."""

    approved_by: Annotated[str, Field(min_length=2)]
    approved_on: date


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


class Person(Model):
    id: Identifier
    name: Annotated[str, Field(min_length=1)]
    unit: Identifier
    extension: Extension
    device: DialString
    mobile: PhoneNumber | None = None
    cover: Extension | None = None
    voicemail: Mailbox | None = None
    forward_to_mobile: Approval | None = None
    pay_services: Approval | None = None
    fallback: tuple[FallbackItem, ...] | None = None


class Phone(Model):
    """A shared phone that is nobody's own: a duty phone, a reception desk."""

    extension: Extension
    name: Annotated[str, Field(min_length=1)]
    device: DialString
    unit: Identifier | None = None


class Outbound(Model):
    trunk: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*/\S*\{number\}\S*$")] = (
        "PJSIP/{number}@operator"
    )
    barred_prefixes: tuple[Prefix, ...] = ("0900", "0939", "0944", "099")
    private_prefix: Prefix | None = None


class LoggingConfig(Model):
    format: Literal["json", "console", "auto"] = "json"
    level: Literal["debug", "info", "warning", "error"] = "info"
    mask_numbers: bool = True


class StoreConfig(Model):
    url: Annotated[str, Field(pattern=r"^(sqlite:///|postgresql://)\S+$")] = (
        "sqlite:///var/lib/routing/routing.db"
    )


class Config(Model):
    version: Literal[1]
    timezone: Annotated[str, AfterValidator(_check_zone)] = "Europe/Stockholm"
    calendar: CalendarConfig = CalendarConfig()
    working_hours: WeeklyHours
    ring: RingConfig = RingConfig()
    callback: CallbackConfig = CallbackConfig()
    max_redirects: int = Field(3, ge=0, le=10)
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
    logging: LoggingConfig = LoggingConfig()
    store: StoreConfig = StoreConfig()
