"""Zuora Workflow API client: OAuth token cache, single requests with one retry loop, bounded
concurrency, the page walk and its guards.

No Dagster, no SQL, no other project package: this layer only speaks HTTP to Zuora.
"""

from .auth import DEFAULT_TOKEN_CACHE, CachedToken, TokenCache
from .client import ZuoraClient
from .dates import parse_zuora_datetime
from .errors import (
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
    parse_error_body,
)
from .metrics import ClientMetrics
from .models import (
    ActiveVersion,
    ExportModel,
    ExportTask,
    ExportWorkflow,
    InactiveVersion,
    Linkage,
    Pagination,
    TokenResponse,
    WorkflowListItem,
    WorkflowListPage,
)
from .pagination import PageWalk
from .results import FetchedPage, WorkflowExport, WorkflowPage
from .retry import RequestCancelled, parse_retry_after
from .settings import ClientSettings
from .urls import ZUORA_REST_HOSTS, check_base_url, parse_allowed_hosts

__all__ = [
    "DEFAULT_TOKEN_CACHE",
    "ERROR_HANDLING",
    "ZUORA_REST_HOSTS",
    "ActiveVersion",
    "CachedToken",
    "ClientMetrics",
    "ClientSettings",
    "ExportModel",
    "ExportTask",
    "ExportWorkflow",
    "FetchedPage",
    "Handling",
    "InactiveVersion",
    "Linkage",
    "PageWalk",
    "Pagination",
    "RequestCancelled",
    "TokenCache",
    "TokenResponse",
    "UnsafeBaseUrlError",
    "WorkflowExport",
    "WorkflowListItem",
    "WorkflowListPage",
    "WorkflowPage",
    "ZuoraAuthenticationError",
    "ZuoraClient",
    "ZuoraConnectionError",
    "ZuoraError",
    "ZuoraListingChangedError",
    "ZuoraMalformedResponseError",
    "ZuoraNotFoundError",
    "ZuoraPaginationError",
    "ZuoraRateLimitedError",
    "ZuoraRequestError",
    "ZuoraServerError",
    "ZuoraValidationError",
    "check_base_url",
    "handling",
    "parse_allowed_hosts",
    "parse_error_body",
    "parse_retry_after",
    "parse_zuora_datetime",
]
