"""JSON shapes of the list, get and versions responses (camelCase, with Zuora's snake_case and
misspelled exceptions), plus the error bodies Zuora is known to send."""

from __future__ import annotations

import json
import time
from typing import Any

from zuora_pipeline.simulator.datagen import MAX_VERSIONS_SHOWN
from zuora_pipeline.simulator.model import Version, WorkflowDef

_MISSING = object()


def iso_ms(epoch_ms: int) -> str:
    """``2019-05-31T14:52:38.171Z``: the format of list, get and versions."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms // 1000)) + f".{epoch_ms % 1000:03d}Z"


def dumps(value: Any) -> bytes:
    # Compact and UTF-8 (not \\u escapes), as a Rails JSON API answers.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def active_version_repr(definition: WorkflowDef, no_active_repr: str) -> Any:
    version = definition.active_version()
    if version is None:
        return {"null": None, "empty": {}, "missing": _MISSING}[no_active_repr]
    return {
        "id": version.id,
        "description": version.description,
        "status": "Active",
        "type": "Workflow::Setup",
        "version": version.version,
    }


def inactive_version_item(version: Version) -> dict[str, Any]:
    return {
        "id": version.id,
        "name": version.name,
        "description": version.description,
        "version": version.version,
        "type": "Workflow::Setup",
        "ondemandTrigger": version.ondemand_trigger,
        "calloutTrigger": version.callout_trigger,
        "scheduledTrigger": version.scheduled_trigger,
        "interval": version.interval,
        "timezone": version.timezone,
        "priority": version.priority,
        "status": "Inactive",
        "createdAt": iso_ms(version.created_at),
        "updatedAt": iso_ms(version.updated_at),
    }


def _definition_base(definition: WorkflowDef) -> dict[str, Any]:
    return {
        "id": definition.id,
        "name": definition.name,
        "description": definition.description,
        "status": definition.status,
        "calloutTrigger": definition.callout_trigger,
        "ondemandTrigger": definition.ondemand_trigger,
        "scheduledTrigger": definition.scheduled_trigger,
        "interval": definition.interval,
        "timezone": definition.timezone,
    }


def list_item(definition: WorkflowDef, no_active_repr: str) -> dict[str, Any]:
    item = _definition_base(definition)
    item["createdAt"] = iso_ms(definition.created_at)
    item["updatedAt"] = iso_ms(definition.updated_at)
    active = active_version_repr(definition, no_active_repr)
    if active is not _MISSING:
        item["active_version"] = active
    inactive = [v for v in reversed(definition.versions) if v.id != definition.active_version_id]
    item["latest_inactive_verisons"] = [inactive_version_item(v) for v in inactive[:MAX_VERSIONS_SHOWN]]
    return item


def get_item(definition: WorkflowDef, no_active_repr: str) -> dict[str, Any]:
    """``GET /workflows/{id}``: the list shape plus top-level priority, minus inactive versions."""
    item = _definition_base(definition)
    item["priority"] = definition.priority
    item["createdAt"] = iso_ms(definition.created_at)
    item["updatedAt"] = iso_ms(definition.updated_at)
    active = active_version_repr(definition, no_active_repr)
    if active is not _MISSING:
        item["active_version"] = active
    return item


def versions_body(definition: WorkflowDef) -> dict[str, Any]:
    data = []
    for version in definition.versions:
        entry = inactive_version_item(version)
        entry["status"] = "Active" if version.id == definition.active_version_id else "Inactive"
        data.append(entry)
    return {"data": data}


def workflow_error(title: str, status: int = 400) -> bytes:
    # Zuora's workflow service puts "status":400 inside its 404 bodies; we copy that quirk.
    return dumps({"errors": [{"status": status, "code": "invalid", "title": title}]})


AUTH_ERROR_BODY = dumps({"message": "Authentication error"})
WWW_AUTHENTICATE = b"Basic realm=Zuora API, ZSession realm=Zuora API, Bearer realm=Zuora API"
BAD_CLIENT_BODY = dumps({"error": "invalid_client", "error_description": "Bad client credentials"})
CONCURRENCY_BODY = dumps(
    {
        "code": "REQUEST_EXCEEDED_LIMIT",
        "message": "Your total number of concurrent requests have exceeded the limit allowed by the system. "
        "Please resubmit your request later.",
    }
)
SERVER_ERROR_BODIES: dict[int, bytes] = {
    500: dumps({"errors": [{"status": 500, "code": "internal_error", "title": "Internal Server Error"}]}),
    502: dumps({"message": "Bad Gateway"}),
    503: dumps(
        {
            "message": "Service Unavailable",
            "errors": [{"status": 503, "code": "unavailable", "title": "Service temporarily unavailable"}],
        }
    ),
}


def rate_limited_body(reset_s: int) -> bytes:
    return dumps(
        {"reasons": [{"code": 70, "message": f"API Rate limit exceeded for the minute, retry after {reset_s} seconds"}]}
    )
