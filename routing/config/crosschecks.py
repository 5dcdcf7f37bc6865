"""Checks across the whole file: references, duplicates, and chains that could leave a
caller unanswered. Each message names the rule it protects."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from routing.config.errors import ConfigIssue, Path, format_path
from routing.config.hours import DAY_NAMES, parse_day_key
from routing.config.schema import Config, FallbackItem
from routing.config.source import Source

_ANSWERING = (FallbackItem.VOICEMAIL, FallbackItem.CALLBACK)


def cross_check(config: Config, source: Source) -> list[ConfigIssue]:
    issues = [source.issue(path, message) for path, message in _problems(config)]
    # A day given twice is a key problem: point at the key that repeats the day.
    issues += [source.issue(path, message, key=True) for path, message in _week_problems(config)]
    return issues


def advisories(config: Config, source: Source) -> list[ConfigIssue]:
    """What the file may say but the policy advises against: warnings for `routing check`,
    `routing reload` and the service's start, never a refusal (a site may mean it)."""
    return [source.issue(path, message) for path, message in _advised_against(config)]


def _advised_against(config: Config) -> Iterator[tuple[Path, str]]:
    ring = config.ring
    limit_s = ring.max_rings * ring.ring_period_s
    queue_s = config.switchboard.queue_timeout_s
    if config.switchboard.operators and queue_s is not None and queue_s > limit_s:
        yield (
            ("switchboard", "queue_timeout_s"),
            f"{queue_s:g} s is longer than the ring limit ({ring.max_rings} × {ring.ring_period_s:g} s = "
            f"{limit_s:g} s): callers waiting in the switchboard's queue hear more than {ring.max_rings} "
            "signals before an answer (R1); leave it out to wait the ring limit",
        )


def _week_problems(config: Config) -> Iterator[tuple[Path, str]]:
    weeks: list[tuple[Path, dict[str, str | list[str]]]] = [(("working_hours",), config.working_hours)]
    weeks += [(("units", i, "phone_hours"), u.phone_hours) for i, u in enumerate(config.units) if u.phone_hours]
    for path, week in weeks:
        first: dict[int, str] = {}
        for key in week:
            for day in parse_day_key(key):
                if day in first:
                    yield (*path, key), f"{DAY_NAMES[day]} is given twice: in '{first[day]}' and in '{key}'"
                    break
                first[day] = key


def _problems(config: Config) -> Iterator[tuple[Path, str]]:
    yield from _unique_ids(config)
    yield from _unique_numbers(config)
    units = {unit.id for unit in config.units}
    people = {person.id: person for person in config.people}
    targets = _dial_targets(config)
    staffed = {person.unit for person in config.people}  # units someone belongs to

    for i, person in enumerate(config.people):
        if person.unit not in units:
            yield ("people", i, "unit"), _unknown("unit", person.unit, units)
        if person.cover is not None:
            if person.cover == person.extension:
                yield ("people", i, "cover"), "a person cannot be their own cover position"
            elif person.cover not in targets:
                yield (
                    ("people", i, "cover"),
                    f"cover '{person.cover}' is not the extension of a person, a phone or the "
                    "switchboard, nor a unit's number",
                )
        if person.forward_to_mobile is not None and person.mobile is None:
            yield ("people", i, "forward_to_mobile"), "R14: forwarding to a mobile needs the person's mobile number"
        yield from _owner_chain(config, ("people", i), person.id, person.fallback, person.voicemail)

    for i, unit in enumerate(config.units):
        for j, member in enumerate(unit.members):
            if member not in people:
                yield ("units", i, "members", j), _unknown("person", member, people)
            elif member in unit.members[:j]:
                yield ("units", i, "members", j), f"'{member}' is listed twice in members"
        if unit.telephone_officer not in people:
            yield ("units", i, "telephone_officer"), "R10: " + _unknown("person", unit.telephone_officer, people)
        kind = targets.get(unit.duty_phone)
        if kind not in ("person", "phone"):
            what = {"unit": "a unit's number", "switchboard": "the switchboard's extension"}
            is_what = what.get(kind or "", "nobody's extension")
            yield (
                ("units", i, "duty_phone"),
                f"R8: duty phone '{unit.duty_phone}' is {is_what}: "
                "it must be the extension of a person or of a shared phone (phones:)",
            )
        if not unit.members and unit.id not in staffed:  # no list, and nobody whose unit it is
            yield ("units", i, "members"), f"unit '{unit.id}' has no members to ring"
        yield from _owner_chain(config, ("units", i), unit.id, unit.fallback, unit.voicemail)

    # The default chain is checked once, not once for every person and unit that uses it.
    yield from _chain_problems(config.fallback, ("fallback",))

    for i, phone in enumerate(config.phones):
        if phone.unit is not None and phone.unit not in units:
            yield ("phones", i, "unit"), _unknown("unit", phone.unit, units)


def _owner_chain(
    config: Config, owner: Path, name: str, own: tuple[FallbackItem, ...] | None, voicemail: str | None
) -> Iterator[tuple[Path, str]]:
    """A person's or unit's own chain (if set), and the mailbox its chain needs (R3)."""
    if own is not None:
        yield from _chain_problems(own, (*owner, "fallback"))
    chain = own if own is not None else config.fallback
    if voicemail is None and any(item in _ANSWERING for item in chain):
        whose = "its chain" if own is not None else "the default chain"
        yield (
            (*owner, "voicemail"),
            (
                f"R3: {format_path(owner)} ({name}) has no voicemail box, so {whose} {_show(chain)} can end "
                "unanswered (a caller with a hidden number cannot be called back, R4): give it voicemail"
            ),
        )


def _chain_problems(chain: tuple[FallbackItem, ...], path: Path) -> Iterator[tuple[Path, str]]:
    """R3: a chain must end in an answer. Links that cannot act (no cover set) are skipped
    at call time, so only the answering links matter here."""
    if not chain:
        yield path, "R3: an empty chain leaves callers unanswered: end it with voicemail or callback"
        return
    for j, item in enumerate(chain):
        if item in chain[:j]:
            yield (*path, j), f"'{item}' is in the chain twice: give each link once"
    if not any(item in _ANSWERING for item in chain):
        yield path, f"R3: the chain {_show(chain)} can end unanswered: add voicemail or callback"


def _show(chain: tuple[FallbackItem, ...]) -> str:
    return "[" + ", ".join(item.value for item in chain) + "]"


def _unique_ids(config: Config) -> Iterator[tuple[Path, str]]:
    sections = (("units", [u.id for u in config.units]), ("people", [p.id for p in config.people]))
    for section, ids in sections:
        seen: dict[str, int] = {}
        for i, item_id in enumerate(ids):
            if item_id in seen:
                yield (section, i, "id"), f"id '{item_id}' is already used by {section}[{seen[item_id]}]"
            else:
                seen[item_id] = i


def _unique_numbers(config: Config) -> Iterator[tuple[Path, str]]:
    """Every extension and unit number dials exactly one thing."""
    seen: dict[str, str] = {}
    entries: list[tuple[Path, str, str]] = [
        (("switchboard", "extension"), config.switchboard.extension, "the switchboard")
    ]
    entries += [(("units", i, "number"), u.number, f"units[{i}] ({u.id})") for i, u in enumerate(config.units)]
    entries += [(("people", i, "extension"), p.extension, f"people[{i}] ({p.id})") for i, p in enumerate(config.people)]
    entries += [
        (("phones", i, "extension"), p.extension, f"phones[{i}] ({p.name})") for i, p in enumerate(config.phones)
    ]
    for path, number, owner in entries:
        if number in seen:
            yield path, f"number '{number}' is already used by {seen[number]}"
        else:
            seen[number] = owner


def _dial_targets(config: Config) -> dict[str, str]:
    targets = {config.switchboard.extension: "switchboard"}
    targets.update({u.number: "unit" for u in config.units})
    targets.update({p.extension: "person" for p in config.people})
    targets.update({p.extension: "phone" for p in config.phones})
    return targets


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    message = f"no {what} has the id '{name}'"
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return message + (f" (did you mean '{close[0]}'?)" if close else "")
