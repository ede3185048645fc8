"""The one table that says, per error type, whether another request or a later retry may help."""

from __future__ import annotations

import pytest

from zuora_pipeline.zuora import (
    ERROR_HANDLING,
    Handling,
    UnsafeBaseUrlError,
    ZuoraAuthenticationError,
    ZuoraConnectionError,
    ZuoraError,
    ZuoraListingChangedError,
    ZuoraMalformedResponseError,
    ZuoraNotFoundError,
    ZuoraPaginationError,
    ZuoraRateLimitedError,
    ZuoraRequestError,
    ZuoraServerError,
    ZuoraValidationError,
    handling,
)

FINAL = Handling(fetch_again=False, retry_later=False)
EXPECTED: dict[type[ZuoraError], Handling] = {
    ZuoraAuthenticationError: FINAL,
    UnsafeBaseUrlError: FINAL,
    ZuoraPaginationError: FINAL,
    ZuoraRequestError: FINAL,
    ZuoraNotFoundError: FINAL,
    ZuoraValidationError: FINAL,
    ZuoraMalformedResponseError: Handling(fetch_again=True, retry_later=False),
    ZuoraListingChangedError: Handling(fetch_again=False, retry_later=True),
    ZuoraServerError: Handling(fetch_again=True, retry_later=True),
    ZuoraConnectionError: Handling(fetch_again=True, retry_later=True),
    ZuoraRateLimitedError: Handling(fetch_again=True, retry_later=True),
}


def _all_subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_all_subclasses(direct)}}


def test_every_error_type_the_client_raises_is_classified() -> None:
    assert _all_subclasses(ZuoraError) == set(ERROR_HANDLING) == set(EXPECTED)


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_each_error_type_is_handled_as_expected(cls: type[ZuoraError]) -> None:
    error = cls.__new__(cls)
    ZuoraError.__init__(error, "customer 'acme': something", customer="acme")
    assert handling(error) == EXPECTED[cls]


def test_the_most_specific_type_wins() -> None:
    # Both subclass a type with another handling: their own entry decides.
    changed = ZuoraListingChangedError("customer 'acme': moved", customer="acme")
    missing = ZuoraValidationError("customer 'acme': required field 'name' is missing", field="name")
    assert isinstance(changed, ZuoraPaginationError) and handling(changed).retry_later
    assert isinstance(missing, ZuoraMalformedResponseError) and not handling(missing).fetch_again


def test_an_unclassified_error_fails_fast_rather_than_looping() -> None:
    assert ZuoraError not in ERROR_HANDLING
    assert handling(ZuoraError("customer 'acme': something new")) == FINAL
