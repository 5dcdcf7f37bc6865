"""The config compiled for call time: lookups by number, schedules parsed once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from routing.config.hours import WeekSchedule, holiday_calendar, parse_day_hours
from routing.config.schema import Config, FallbackItem, Person, Phone, Unit
from routing.policy.hours import Calendar
from routing.policy.ring_limit import ring_timeout_s


@dataclass(frozen=True)
class Directory:
    config: Config
    calendar: Calendar
    working_hours: WeekSchedule
    phone_hours: Mapping[str, WeekSchedule | None]
    people: Mapping[str, Person]
    units: Mapping[str, Unit]
    members: Mapping[str, tuple[str, ...]]
    by_extension: Mapping[str, Person]
    by_number: Mapping[str, Unit]
    phones: Mapping[str, Phone]
    ring_timeout_s: float

    @classmethod
    def from_config(cls, config: Config) -> Directory:
        cal = config.calendar
        country = None if cal.holidays == "none" else cal.holidays
        calendar = Calendar(
            zone=ZoneInfo(config.timezone),
            holidays=holiday_calendar(country, cal.holiday_categories),
            closed_days=frozenset(cal.closed_days),
            special_hours={day: parse_day_hours(hours) for day, hours in cal.special_hours.items()},
        )
        by_unit: dict[str, tuple[str, ...]] = {}  # members default to everyone whose unit it is
        for person in config.people:
            by_unit[person.unit] = (*by_unit.get(person.unit, ()), person.id)
        return cls(
            config=config,
            calendar=calendar,
            working_hours=WeekSchedule.from_mapping(config.working_hours),
            phone_hours={
                u.id: WeekSchedule.from_mapping(u.phone_hours) if u.phone_hours is not None else None
                for u in config.units
            },
            people={p.id: p for p in config.people},
            units={u.id: u for u in config.units},
            members={u.id: u.members or by_unit.get(u.id, ()) for u in config.units},
            by_extension={p.extension: p for p in config.people},
            by_number={u.number: u for u in config.units},
            phones={p.extension: p for p in config.phones},
            ring_timeout_s=ring_timeout_s(config.ring.max_rings, config.ring.ring_period_s),
        )

    def devices(self) -> tuple[str, ...]:
        """Every phone the config names (people, shared phones, the switchboard)."""
        config = self.config
        return tuple(
            {p.device: None for p in config.people}
            | {p.device: None for p in config.phones}
            | {config.switchboard.device: None}
        )

    def device_of(self, extension: str) -> str | None:
        """The Asterisk device of a person's, a shared phone's or the switchboard's extension."""
        if extension in self.by_extension:
            return self.by_extension[extension].device
        if extension in self.phones:
            return self.phones[extension].device
        if extension == self.config.switchboard.extension:
            return self.config.switchboard.device
        return None

    def label(self, target: str) -> str:
        """A person's id, a unit's id or a shared phone's extension as an operator says it:
        'Anna Lindqvist (5001)', 'Socialtjänsten (5000)', 'Socialjouren (5099)'; else as given."""
        person = self.people.get(target)
        if person is not None:
            return f"{person.name} ({person.extension})"
        unit = self.units.get(target)
        if unit is not None:
            return f"{unit.name} ({unit.number})"
        phone = self.phones.get(target)
        return f"{phone.name} ({phone.extension})" if phone is not None else target

    def person_chain(self, person: Person) -> tuple[FallbackItem, ...]:
        return person.fallback if person.fallback is not None else self.config.fallback

    def unit_chain(self, unit: Unit) -> tuple[FallbackItem, ...]:
        return unit.fallback if unit.fallback is not None else self.config.fallback
