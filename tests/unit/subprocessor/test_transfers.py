"""Transfers: EEA locations need nothing; elsewhere the mechanism must fit the country."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.subprocessor.domain import (
    ADEQUACY_DECISIONS,
    ADEQUACY_SOURCES,
    EEA_COUNTRIES,
    EEA_SOURCES,
    InvalidLocation,
    NaiveDatetime,
    TransferMechanism,
    TransferNotAllowed,
    UnknownTransferMechanism,
    is_in_eea,
    normalise_location,
    validate_transfer,
)

AT = datetime(2026, 11, 21, tzinfo=UTC)


def test_the_eea_is_the_27_member_states_plus_iceland_liechtenstein_norway() -> None:
    assert len(EEA_COUNTRIES) == 30
    assert {"IS", "LI", "NO", "FR", "DE", "GR", "HR"} <= set(EEA_COUNTRIES)
    assert not {"GB", "CH", "US"} & set(EEA_COUNTRIES)
    assert EEA_SOURCES


def test_the_adequacy_list_matches_the_reference() -> None:
    expected = {"AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "US", "UY", "EPO"}
    assert set(ADEQUACY_DECISIONS) == expected
    assert ADEQUACY_DECISIONS["US"].dpf_only
    assert ADEQUACY_DECISIONS["US"].instrument is not None
    assert "2023/1795" in ADEQUACY_DECISIONS["US"].instrument
    assert ADEQUACY_DECISIONS["GB"].valid_until == datetime(2031, 12, 27).date()
    assert any("commission.europa.eu" in source for source in ADEQUACY_SOURCES)


@pytest.mark.parametrize("location", ["FR", "de", " ie ", "NO", "EL"])
def test_processing_inside_the_eea_needs_no_mechanism(location: str) -> None:
    assert is_in_eea(location)
    assert validate_transfer(location, None, at=AT) is None
    # A mechanism given anyway is harmless and not reported.
    assert validate_transfer(location, "sccs", at=AT) is None


def test_location_aliases_and_bad_codes() -> None:
    assert normalise_location("el") == "GR"
    assert normalise_location("UK") == "GB"
    for bad in ("France", "F", "123", ""):
        with pytest.raises(InvalidLocation, match="ISO 3166 alpha-2"):
            normalise_location(bad)


def test_outside_the_eea_without_a_mechanism_is_refused() -> None:
    with pytest.raises(TransferNotAllowed, match="IN is outside the EEA and needs a transfer mechanism"):
        validate_transfer("IN", None, at=AT)


@pytest.mark.parametrize("location", ["CH", "JP", "GB", "uk", "KR", "CA", "NZ", "UY"])
def test_adequacy_where_a_decision_exists(location: str) -> None:
    assert validate_transfer(location, "adequacy", at=AT) is TransferMechanism.ADEQUACY


@pytest.mark.parametrize("location", ["IN", "CN", "BR", "SG", "AU"])
def test_adequacy_where_no_decision_exists_is_refused(location: str) -> None:
    with pytest.raises(TransferNotAllowed, match=f"no EU adequacy decision for {location}"):
        validate_transfer(location, TransferMechanism.ADEQUACY, at=AT)


def test_adequacy_for_the_us_points_to_the_dpf() -> None:
    with pytest.raises(TransferNotAllowed, match="use eu_us_dpf"):
        validate_transfer("US", "adequacy", at=AT)


def test_uk_adequacy_expires_after_27_december_2031() -> None:
    assert validate_transfer("GB", "adequacy", at=datetime(2031, 12, 27, 23, tzinfo=UTC))
    with pytest.raises(TransferNotAllowed, match="expired on 2031-12-27"):
        validate_transfer("GB", "adequacy", at=datetime(2031, 12, 28, tzinfo=UTC))


def test_dpf_only_for_certified_us_importers() -> None:
    assert validate_transfer("US", "eu_us_dpf", at=AT, dpf_certified=True) is TransferMechanism.EU_US_DPF
    with pytest.raises(TransferNotAllowed, match="active DPF certification"):
        validate_transfer("US", "eu_us_dpf", at=AT)
    with pytest.raises(TransferNotAllowed, match="only covers the United States, not IN"):
        validate_transfer("IN", "eu_us_dpf", at=AT, dpf_certified=True)


@pytest.mark.parametrize("mechanism", ["sccs", "bcrs", "derogation", "SCCS"])
def test_sccs_bcrs_and_derogations_are_valid_anywhere(mechanism: str) -> None:
    assert validate_transfer("IN", mechanism, at=AT) is TransferMechanism(mechanism.lower())
    assert validate_transfer("US", mechanism, at=AT) is TransferMechanism(mechanism.lower())


def test_unknown_mechanism_is_refused() -> None:
    with pytest.raises(UnknownTransferMechanism, match="expected one of: adequacy, sccs"):
        validate_transfer("IN", "pinky_promise", at=AT)


def test_transfer_time_must_be_aware() -> None:
    with pytest.raises(NaiveDatetime):
        validate_transfer("US", "sccs", at=datetime(2026, 11, 21))
