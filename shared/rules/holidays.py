"""Public-holiday calendars for legal clocks, from the maintained ``holidays`` package.

A period whose last day is a public holiday, a Saturday or a Sunday ends with the next working day
(EU Regulation 1182/71 Art. 3(4), https://eur-lex.europa.eu/eli/reg/1971/1182/oj), and a count of
business days leaves public holidays out (CCPA: 11 CCR § 7001, https://cppa.ca.gov/regulations/).
Which days are public holidays depends on the country and, in federal or devolved states, on the
region, so a calendar is named by a code: an ISO 3166-1 country, optionally followed by one of the
``holidays`` package's subdivisions of it: ``FR``, ``DE``, ``DE-BY``, ``IE``, ``GB-ENG``,
``GB-SCT``, ``US-CA``. The days are the package's public holidays (its default category, observed
days included, e.g. Boxing Day (observed) in England), counted in the country's weekend.

Pure: the package computes holidays from rules, with no file or network access.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from types import MappingProxyType

import holidays as holiday_rules
from holidays.registry import COUNTRIES

from shared.rules.workdays import WorkingCalendar

CODE_PATTERN = r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,8})?$"
_LANGUAGE = "en_US"  # holiday names in the basis of a deadline; the country's own language when not offered
_COUNTRY_NAMES = {entry[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entry[0]) for entry in COUNTRIES.values()}


class UnknownCalendar(ValueError):
    """The code names no country, or no subdivision of it, that the ``holidays`` package knows."""


@dataclass(frozen=True, slots=True)
class CalendarCode:
    """A country (ISO 3166-1 alpha-2) and, optionally, one of its subdivisions."""

    country: str
    subdivision: str | None = None

    def __str__(self) -> str:
        return self.country if self.subdivision is None else f"{self.country}-{self.subdivision}"

    @property
    def name(self) -> str:
        """The place in words: ``France``, ``England, United Kingdom``, ``California, United States``."""
        country = _COUNTRY_NAMES.get(self.country, self.country)
        if self.subdivision is None:
            return country
        return f"{_subdivision_names(self.country).get(self.subdivision, self.subdivision)}, {country}"


@lru_cache(maxsize=256)
def parse_calendar_code(code: str) -> CalendarCode:
    """``FR``, ``gb-eng``, ``US-CA`` → the canonical code; ``UnknownCalendar`` naming what is known otherwise."""
    text = code.strip() if isinstance(code, str) else ""
    if not re.match(CODE_PATTERN, text):
        raise UnknownCalendar(f"{code!r} is not a calendar code: a country (FR), or a country and a region (GB-ENG)")
    country, _, subdivision = text.partition("-")
    country = country.upper()
    subdivisions = holiday_rules.list_supported_countries().get(country)
    if subdivisions is None:
        raise UnknownCalendar(f"no public-holiday calendar for the country {country!r} (ISO 3166-1 alpha-2)")
    if not subdivision:
        return CalendarCode(country)
    known = {s.upper(): s for s in subdivisions if " " not in s}
    if subdivision.upper() not in known:
        listed = ", ".join(f"{country}-{s}" for s in sorted(known.values())) or "none"
        raise UnknownCalendar(f"{country} has no region {subdivision!r}; known: {listed}")
    return CalendarCode(country, known[subdivision.upper()])


@dataclass(frozen=True)
class PublicHolidayCalendar(WorkingCalendar):
    """Weekends and the public holidays of one place, any year (computed on first use, then kept)."""

    code: str = field(kw_only=True)

    @property
    def place(self) -> CalendarCode:
        """The country and region whose holidays this calendar leaves out."""
        return parse_calendar_code(self.code)

    @property
    def description(self) -> str:
        """``public holidays of France (FR)``."""
        return f"public holidays of {self.place.name} ({self.code})"

    def holiday_name(self, day: date) -> str | None:
        """The holiday's name (``National Day``, ``Easter Monday``), or None on another day."""
        return holidays_of(self.code, day.year).get(day) or super().holiday_name(day)

    def is_working_day(self, day: date) -> bool:
        """A weekday of the country that is not one of its public holidays."""
        return super().is_working_day(day) and day not in holidays_of(self.code, day.year)


def public_holidays(code: str) -> PublicHolidayCalendar:
    """The working calendar of a place (``FR``, ``GB-ENG``, ``US-CA``); ``UnknownCalendar`` when none exists."""
    return _calendar(parse_calendar_code(code))


@lru_cache(maxsize=256)
def _calendar(place: CalendarCode) -> PublicHolidayCalendar:
    return PublicHolidayCalendar(weekend=frozenset(_entity(place, 2000).weekend), code=str(place))


@lru_cache(maxsize=2048)
def holidays_of(code: str, year: int) -> Mapping[date, str]:
    """The public holidays of a place in one year, by date, with their names."""
    entity = _entity(parse_calendar_code(code), year)
    return MappingProxyType({day: name for day, name in sorted(entity.items())})


def _entity(place: CalendarCode, year: int) -> holiday_rules.HolidayBase:
    probe = holiday_rules.country_holidays(place.country)
    language = _LANGUAGE if _LANGUAGE in probe.supported_languages else None
    return holiday_rules.country_holidays(place.country, subdiv=place.subdivision, years=year, language=language)


@lru_cache(maxsize=64)
def _subdivision_names(country: str) -> Mapping[str, str]:
    aliases = holiday_rules.country_holidays(country).subdivisions_aliases
    names: dict[str, str] = {}
    for name, subdivision in aliases.items():
        names.setdefault(subdivision, name)
    return MappingProxyType(names)
