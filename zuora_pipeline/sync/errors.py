"""What a failed stage means for the customer: its kind, and the line that reports it.

A deterministic error (bad credentials, a missing or wrong secret key, a refused origin, a
pagination loop, a 4xx other than 429, a listing that stayed malformed through the client's
retries, a customer that is gone) would fail the same way minutes later: it is reported at once,
not retried. A transient one (5xx, timeouts, dropped connections, 429s outlasting the client's
budget, a listing that changed mid-walk, the warehouse's connection) is worth another attempt.
Zuora's errors are classified by ``zuora.ERROR_HANDLING``; the others here. Refused credentials
pause the customer until an operator resumes it.
"""

from __future__ import annotations

from zuora_pipeline.crypto import SecretKeyError
from zuora_pipeline.sync.apply import NoListingError
from zuora_pipeline.sync.results import FailureKind, SyncFailure
from zuora_pipeline.zuora import ZuoraAuthenticationError, ZuoraError, handling


class UnknownCustomerError(LookupError):
    """A partition (or a name) with no customer in the warehouse."""


class Interrupted(Exception):
    """The sync was asked to stop (Ctrl-C, SIGTERM, a canceled run)."""


# Errors from outside the Zuora client that would fail the same way on a retry. Anything else
# (warehouse connection errors among them) is transient.
_DETERMINISTIC: tuple[type[Exception], ...] = (SecretKeyError, NoListingError, UnknownCustomerError)


def kind_of(exc: BaseException) -> FailureKind:
    if isinstance(exc, Interrupted):
        return FailureKind.INTERRUPTED
    if isinstance(exc, ZuoraAuthenticationError):
        return FailureKind.CREDENTIALS
    if isinstance(exc, ZuoraError):
        return FailureKind.TRANSIENT if handling(exc).retry_later else FailureKind.DETERMINISTIC
    if isinstance(exc, _DETERMINISTIC):
        return FailureKind.DETERMINISTIC
    return FailureKind.TRANSIENT


def failure_of(exc: BaseException) -> SyncFailure:
    """The failure a stage's exception stands for, with the line the run reports."""
    kind = kind_of(exc)
    if kind is FailureKind.CREDENTIALS:
        message = f"{exc} The customer is now paused."
    elif kind is FailureKind.DETERMINISTIC and not isinstance(exc, UnknownCustomerError):
        message = f"{exc} (not retried: it would fail the same way)"
    else:
        message = str(exc) or type(exc).__name__
    return SyncFailure(message, kind, exc)


def record_message(exc: BaseException) -> str:
    """The error a failed sync's record keeps (a transient one names its type: the record is read
    without the stack trace)."""
    if kind_of(exc) is FailureKind.TRANSIENT:
        return f"{type(exc).__name__}: {exc}"
    return str(exc)
