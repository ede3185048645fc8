"""Which failures are worth another attempt (the step retry) and which fail the sync at once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zuora_pipeline.crypto import SecretKeyError
from zuora_pipeline.sync.apply import NoListingError
from zuora_pipeline.sync.errors import kind_of
from zuora_pipeline.sync.results import FailureKind
from zuora_pipeline.zuora import (
    UnsafeBaseUrlError,
    ZuoraAuthenticationError,
    ZuoraConnectionError,
    ZuoraListingChangedError,
    ZuoraMalformedResponseError,
    ZuoraNotFoundError,
    ZuoraPaginationError,
    ZuoraRateLimitedError,
    ZuoraRequestError,
    ZuoraServerError,
    ZuoraValidationError,
)

DETERMINISTIC = [
    ZuoraPaginationError("customer 'acme': pagination loop: page 3 would request /workflows?page=2 again"),
    ZuoraPaginationError("customer 'acme': page 1 points next_page at another origin (https://rest.zuora.com)"),
    UnsafeBaseUrlError("base URL http://example.com must use https"),
    ZuoraRequestError("customer 'acme': GET /workflows returned HTTP 403", status=403),
    ZuoraNotFoundError("customer 'acme': GET /workflows returned HTTP 404", status=404),
    ZuoraAuthenticationError("Zuora rejected the credentials of customer 'acme'", status=401),
    ZuoraMalformedResponseError("customer 'acme': list page 1 is not valid JSON (in each of 6 attempt(s))"),
    ZuoraValidationError("customer 'acme': required field 'name' is missing (workflow 7)", field="name"),
    SecretKeyError("ZUORA_PIPELINE_SECRET_KEY is not set"),
    SecretKeyError("cannot decrypt the client secret: ZUORA_PIPELINE_SECRET_KEY is not the key it was stored with"),
    NoListingError("customer 'acme' has no complete workflow listing yet"),
]
TRANSIENT = [
    ZuoraServerError("customer 'acme': GET /workflows returned HTTP 503 after 6 attempt(s)", status=503),
    ZuoraConnectionError("customer 'acme': GET /workflows failed after 6 attempt(s): timeout"),
    ZuoraConnectionError("customer 'acme': GET /workflows failed after 6 attempt(s): dropped_connection"),
    ZuoraRateLimitedError("customer 'acme': still rate-limited (HTTP 429)", status=429),
    ZuoraListingChangedError("customer 'acme': workflow 7 exists but was missing from the listing"),
    sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
    sa.exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
]


@pytest.mark.parametrize("error", DETERMINISTIC, ids=lambda e: f"{type(e).__name__}:{e}"[:60])
def test_deterministic_errors_fail_fast(error: Exception) -> None:
    assert not kind_of(error).retryable
    expected = FailureKind.CREDENTIALS if isinstance(error, ZuoraAuthenticationError) else FailureKind.DETERMINISTIC
    assert kind_of(error) is expected


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: f"{type(e).__name__}:{e}"[:60])
def test_transient_errors_keep_the_retry_policy(error: Exception) -> None:
    assert kind_of(error) is FailureKind.TRANSIENT
