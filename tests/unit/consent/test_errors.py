import pytest

import services.consent.domain as domain
from services.consent.domain import errors

ERROR_TYPES = [
    value
    for value in vars(errors).values()
    if isinstance(value, type) and issubclass(value, errors.DomainError) and value is not errors.DomainError
]


@pytest.mark.parametrize("error_type", ERROR_TYPES, ids=lambda t: t.__name__)
def test_every_error_is_a_value_error_with_problem_fields(error_type: type[errors.DomainError]) -> None:
    error = error_type("some_field", "is wrong")
    assert isinstance(error, ValueError)
    assert str(error) == "some_field: is wrong"
    assert (error.field, error.detail) == ("some_field", "is wrong")
    assert error.code != errors.DomainError.code
    assert error.title
    assert 400 <= error.status < 600


def test_error_codes_are_unique() -> None:
    codes = [t.code for t in ERROR_TYPES]
    assert len(codes) == len(set(codes))


def test_package_exports_what_it_lists() -> None:
    assert all(hasattr(domain, name) for name in domain.__all__)
    assert {t.__name__ for t in ERROR_TYPES} <= set(domain.__all__)
