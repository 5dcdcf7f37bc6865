"""Validated string types for the YAML config: each refuses what Asterisk would choke on."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import BeforeValidator


def _pattern(regex: str, what: str, example: str) -> Callable[[object], object]:
    """A check run before pydantic's own: bare digits that YAML read as a number are told to
    be quoted (when quoting would make them right), and text is matched against `regex`."""
    compiled = re.compile(regex)

    def check(value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
            if compiled.fullmatch(text):
                raise ValueError(f'write it in quotes, e.g. "{text}" (YAML reads bare digits as a number)')
            raise ValueError(f"{text} is not {what}, e.g. {example}")
        if isinstance(value, str) and not compiled.fullmatch(value):
            raise ValueError(f"'{value}' is not {what}, e.g. {example}")
        return value

    return check


Identifier = Annotated[
    str,
    BeforeValidator(_pattern(r"[a-z][a-z0-9_-]{0,31}", "an id (lower-case letters, digits, - and _)", "soc")),
]
Extension = Annotated[str, BeforeValidator(_pattern(r"[0-9]{2,10}", "an extension (2 to 10 digits)", '"5001"'))]
PhoneNumber = Annotated[
    str,
    BeforeValidator(
        _pattern(
            r"\+[1-9][0-9]{6,14}|0[1-9][0-9]{5,12}",
            "a phone number (digits only, +country or a leading 0)",
            '"+46701234567" or "0701234567"',
        )
    ),
]
DialString = Annotated[
    str,
    BeforeValidator(_pattern(r"[A-Za-z][A-Za-z0-9_]*/[^\s&,()|]+", "an Asterisk device (TECH/resource)", "PJSIP/5001")),
]
Mailbox = Annotated[
    str,
    BeforeValidator(
        _pattern(
            r"[0-9A-Za-z_]{1,20}(@[A-Za-z0-9_-]{1,40})?",
            "a voicemail box (BOX@context)",
            '"5001@default"',
        )
    ),
]
PromptName = Annotated[
    str,
    BeforeValidator(
        _pattern(
            r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}(/[A-Za-z0-9_][A-Za-z0-9_-]{0,63})*",
            "a prompt name",
            "soc-telefontid",
        )
    ),
]
Dtmf = Annotated[str, BeforeValidator(_pattern(r"[0-9*#]", "one key of the phone", '"1"'))]
EnvName = Annotated[
    str,
    BeforeValidator(_pattern(r"[A-Z_][A-Z0-9_]{0,63}", "an environment variable name", "ROUTING_AMI_SECRET")),
]
Prefix = Annotated[str, BeforeValidator(_pattern(r"[0-9*#]{1,8}", "a dialling prefix", '"0900"'))]
TrunkTemplate = Annotated[
    str,
    BeforeValidator(
        _pattern(
            r"[A-Za-z][A-Za-z0-9_]*/\S*\{number\}\S*",
            "an Asterisk dial string with {number} where the dialled number goes",
            '"PJSIP/{number}@operator"',
        )
    ),
]
HttpUrl = Annotated[
    str,
    BeforeValidator(
        _pattern(r"https?://[^\s/]+(:\d+)?/?", "an http:// or https:// address", '"http://127.0.0.1:8088"')
    ),
]
ListenAddress = Annotated[
    str,
    BeforeValidator(_pattern(r"[0-9A-Za-z.:\[\]-]+:\d{1,5}", "HOST:PORT", '"127.0.0.1:4573"')),
]


def _network(text: object) -> object:
    """An address or a network (127.0.0.1, 10.1.2.0/24, ::1): who may speak FastAGI."""
    if not isinstance(text, str):
        raise ValueError('write an address or a network as text, e.g. "127.0.0.1" or "10.1.2.0/24"')
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f'\'{text}\' is not an IP address or network, e.g. "127.0.0.1" or "10.1.2.0/24"') from None
    return text.strip()


Network = Annotated[str, BeforeValidator(_network)]
StoreUrl = Annotated[
    str,
    BeforeValidator(
        _pattern(
            r"(sqlite:///|postgresql://)\S+",
            "a store url (sqlite:///PATH or postgresql://…)",
            '"sqlite:///var/lib/routing/routing.db"',
        )
    ),
]
AbsolutePath = Annotated[
    str,
    BeforeValidator(_pattern(r"/[^\s\x00]*", "an absolute path without spaces", '"/var/lib/routing/prompts"')),
]
FeatureCode = Annotated[
    str,
    BeforeValidator(_pattern(r"[*#][0-9]{1,4}", "a feature code (* or # and 1 to 4 digits)", '"*21"')),
]
