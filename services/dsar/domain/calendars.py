"""Which public holidays a request's clock leaves out: the tenant's choice per regime, else the default.

A holiday matters where a last day on a holiday moves to the next working day, or where a period
is counted in business days (``Regime.counts_working_days``):

- ``eu-gdpr``: Regulation 1182/71 counts the holidays "designated as such in the Member State ... in
  which an action is to be taken" (Art. 2(1)) and moves a last day on one of them to the next working
  day (Art. 3(4), https://eur-lex.europa.eu/eli/reg/1971/1182/oj): the member state of the
  establishment answering the request, an EU or EEA country the tenant names (FR, DE, IE, …). Until
  it does, no holiday is counted: the earlier date, never a late one.
- ``uk-gdpr``: the ICO moves a corresponding date on a weekend or public holiday to the next working
  day (https://ico.org.uk/global/sar-checklist-for-smes/i-need-to-complete-a-sar); bank holidays differ
  per nation (Banking and Financial Dealings Act 1971 Sch. 1,
  https://www.legislation.gov.uk/ukpga/1971/80/schedule/1): GB-ENG (England and Wales, the same
  days), GB-WLS, GB-SCT or GB-NIR; England and Wales by default.
- ``us-ca-ccpa``: the 10 business days to acknowledge (11 CCR § 7021(a)) and the 15 to honour an
  opt-out (§ 7026(f)) leave out California's state holidays (business day, § 7001,
  https://cppa.ca.gov/regulations/): US-CA by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from shared.rules.holidays import UnknownCalendar, parse_calendar_code, public_holidays
from shared.rules.workdays import WEEKENDS_ONLY, WorkingCalendar

from .errors import InvalidCalendar, UnknownRegime
from .jurisdictions import Regime, get_regime

# The member states of the EU and the other EEA states (IS, LI, NO), which apply the GDPR (EEA Agreement Annex XI).
_EU_27 = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
EU_EEA = frozenset(_EU_27.split(" ")) | {"IS", "LI", "NO"}


@dataclass(frozen=True, slots=True)
class CalendarRule:
    """Which calendars may stand for a regime, and the one used when the tenant names none."""

    countries: frozenset[str]  # empty: any country the holidays package knows
    default: str | None = None  # None: weekends only
    needs_region: bool = False
    source: str = ""


CALENDAR_RULES: Mapping[str, CalendarRule] = MappingProxyType(
    {
        "eu-gdpr": CalendarRule(
            EU_EEA, None, source="Reg. 1182/71 Arts. 2(1), 3(4): the member state where the request is answered"
        ),
        "uk-gdpr": CalendarRule(
            frozenset({"GB"}), "GB-ENG", needs_region=True, source="ICO; Banking and Financial Dealings Act 1971"
        ),
        "us-ca-ccpa": CalendarRule(
            frozenset({"US"}), "US-CA", needs_region=True, source="11 CCR § 7001: observed California state holidays"
        ),
    }
)
_ANY = CalendarRule(frozenset())


def calendar_rule(regime: Regime) -> CalendarRule:
    """The calendar rule of a regime (any country, no default, for one without its own)."""
    return CALENDAR_RULES.get(regime.id, _ANY)


def check_calendar_choice(regime_id: str, code: str) -> str:
    """The canonical code of the calendar a tenant chose for a regime; ``InvalidCalendar`` when it cannot apply."""
    where = f"calendars.{regime_id}"
    try:
        regime = get_regime(regime_id)
    except UnknownRegime as error:
        raise InvalidCalendar(str(error), field=where) from None
    if not regime.counts_working_days():
        raise InvalidCalendar(
            f"{regime_id} counts calendar days and keeps a last day on a weekend or holiday: "
            "a holiday calendar would change nothing",
            field=where,
        )
    try:
        place = parse_calendar_code(code)
    except UnknownCalendar as error:
        raise InvalidCalendar(str(error), field=where) from None
    rule = calendar_rule(regime)
    if rule.countries and place.country not in rule.countries:
        allowed = ", ".join(sorted(rule.countries))
        raise InvalidCalendar(f"{regime_id} applies in {allowed}, not {place.country} ({rule.source})", field=where)
    if rule.needs_region and place.subdivision is None:
        raise InvalidCalendar(
            f"{place.country} has holidays per region: name it, e.g. {rule.default} ({rule.source})", field=where
        )
    return str(place)


def calendar_code(regime: Regime, chosen: Mapping[str, str]) -> str | None:
    """The calendar a new request of the regime uses: the tenant's choice, else the default; None: weekends only."""
    if not regime.counts_working_days():
        return None
    return chosen.get(regime.id) or calendar_rule(regime).default


def working_calendar(code: str | None) -> WorkingCalendar:
    """The working calendar of a code (None: weekends only, no public holidays)."""
    return public_holidays(code) if code else WEEKENDS_ONLY
