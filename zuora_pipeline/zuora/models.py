"""Pydantic models of the Zuora responses we read (token, list page, workflow, export).

Tolerance rules, because Zuora's payloads vary: unknown fields are kept
(`extra="allow"`), `null` and `""` both mean "unset" for optional strings, ids may be ints or
numeric strings, dates come in several formats and are normalised to UTC, and `active_version`
may be null, `{}` or missing. A missing *required* field raises ZuoraValidationError naming the
field and the workflow id (use the `parse_*` helpers, not `model_validate`, to get that).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import CoreSchema, SchemaValidator
from pydantic_core import core_schema as cs

from .dates import parse_zuora_datetime
from .errors import ZuoraValidationError


def _blank_to_none(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # e.g. a numeric object_id: keep it as text rather than reject it
    return value


def _coerce_id(value: object) -> object:
    if isinstance(value, bool):  # bool is an int subclass; True is not an id
        raise ValueError("an id must be an integer")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise ValueError(f"an id must be an integer, got {value!r}")
        return int(text)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _optional_id(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _coerce_id(value)


def _none_to_empty_list(value: object) -> object:
    return [] if value is None else value


def _none_to_empty_dict(value: object) -> object:
    return {} if value is None else value


def _empty_version_to_none(value: object) -> object:
    # Section 3: "no active version" may be null, {} or missing; an object with nothing but nulls too.
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, dict) and all(v in (None, "") for v in value.values()):
        return None
    return value


OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
ZuoraId = Annotated[int, BeforeValidator(_coerce_id)]
OptId = Annotated[int | None, BeforeValidator(_optional_id)]
UtcDatetime = Annotated[datetime | None, BeforeValidator(parse_zuora_datetime)]


class ZuoraModel(BaseModel):
    # populate_by_name: models accept both the API's camelCase and our snake_case names.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ActiveVersion(ZuoraModel):
    id: OptId = None
    description: OptStr = None
    status: OptStr = None
    type: OptStr = None
    version: OptStr = None


class InactiveVersion(ZuoraModel):
    id: OptId = None
    name: OptStr = None
    description: OptStr = None
    version: OptStr = None
    type: OptStr = None
    status: OptStr = None
    priority: OptStr = None
    callout_trigger: bool | None = Field(default=None, alias="calloutTrigger")
    ondemand_trigger: bool | None = Field(default=None, alias="ondemandTrigger")
    scheduled_trigger: bool | None = Field(default=None, alias="scheduledTrigger")
    interval: OptStr = None
    timezone: OptStr = None
    created_at: UtcDatetime = Field(default=None, alias="createdAt")
    updated_at: UtcDatetime = Field(default=None, alias="updatedAt")


class WorkflowListItem(ZuoraModel):
    """One entry of GET /workflows (and the body of GET /workflows/{id}): a workflow *definition*."""

    id: ZuoraId
    name: str
    description: OptStr = None
    status: OptStr = None
    priority: OptStr = None  # only GET /workflows/{id} has it
    callout_trigger: bool | None = Field(default=None, alias="calloutTrigger")
    ondemand_trigger: bool | None = Field(default=None, alias="ondemandTrigger")
    scheduled_trigger: bool | None = Field(default=None, alias="scheduledTrigger")
    interval: OptStr = None
    timezone: OptStr = None
    created_at: UtcDatetime = Field(default=None, alias="createdAt")
    updated_at: UtcDatetime = Field(default=None, alias="updatedAt")
    active_version: Annotated[ActiveVersion | None, BeforeValidator(_empty_version_to_none)] = None
    # The misspelling is Zuora's own (in the list response); the attribute keeps it so it maps 1:1.
    latest_inactive_verisons: Annotated[list[InactiveVersion], BeforeValidator(_none_to_empty_list)] = Field(
        default_factory=list
    )


class Pagination(ZuoraModel):
    next_page: OptStr = None
    page: OptId = None
    page_length: OptId = None


class WorkflowListPage(ZuoraModel):
    data: list[WorkflowListItem]
    pagination: Pagination | None = None


class ExportWorkflow(ZuoraModel):
    """`workflow` of an export: its `id` is the exported *version's* id."""

    id: OptId = None
    name: OptStr = None
    description: OptStr = None
    type: OptStr = None
    version: OptStr = None
    status: OptStr = None
    priority: OptStr = None
    call_type: OptStr = None
    ondemand_trigger: bool | None = None
    callout_trigger: bool | None = None
    scheduled_trigger: bool | None = None
    sync_trigger: bool | None = None
    interval: OptStr = None
    timezone: OptStr = None
    delete_ttl: int | None = None
    parameters: Annotated[dict[str, Any], BeforeValidator(_none_to_empty_dict)] = Field(default_factory=dict)
    css: dict[str, Any] | None = None


class ExportTask(ZuoraModel):
    id: ZuoraId
    name: OptStr = None
    action_type: OptStr = None
    call_type: OptStr = None
    object: OptStr = None
    object_id: OptStr = None
    task_id: OptId = None  # the upstream ("parent") task
    priority: OptStr = None
    parameters: Annotated[dict[str, Any], BeforeValidator(_none_to_empty_dict)] = Field(default_factory=dict)
    tags: Annotated[list[Any], BeforeValidator(_none_to_empty_list)] = Field(default_factory=list)
    css: dict[str, Any] | None = None
    concurrent_limit: int | None = None
    assignment: Annotated[list[Any], BeforeValidator(_none_to_empty_list)] = Field(default_factory=list)


class Linkage(ZuoraModel):
    source_workflow_id: OptId = None
    source_task_id: OptId = None
    target_task_id: OptId = None
    linkage_type: OptStr = None  # a free string: "For Each", "Case_3", event names...


class ExportModel(ZuoraModel):
    """GET /workflows/{id}/export. Extra top-level keys (e.g. `workflow_definition`) are kept."""

    workflow: ExportWorkflow
    tasks: Annotated[list[ExportTask], BeforeValidator(_none_to_empty_list)] = Field(default_factory=list)
    linkages: Annotated[list[Linkage], BeforeValidator(_none_to_empty_list)] = Field(default_factory=list)


class TokenResponse(ZuoraModel):
    # repr=False: a logged or printed TokenResponse must not show the bearer token.
    access_token: str = Field(min_length=1, repr=False)
    token_type: OptStr = None
    expires_in: float | None = None
    scope: OptStr = Field(default=None, repr=False)
    jti: OptStr = Field(default=None, repr=False)


# ---------------------------------------------------------------------------------------------
# Parsing helpers that turn pydantic's errors into ZuoraValidationError naming field + workflow.

M = TypeVar("M", bound=BaseModel)


def _describe(err: ValidationError) -> tuple[str, str]:
    first = err.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(p) for p in first["loc"]) or "(root)"
    if first["type"] == "missing":
        return field, f"required field {field!r} is missing"
    return field, f"field {field!r} is invalid ({first['msg']})"


def parse_model(
    model: type[M],
    data: object,
    *,
    workflow_id: object,
    customer: str | None = None,
    endpoint: str | None = None,
    what: str = "",
) -> M:
    """Validate `data`; on failure raise ZuoraValidationError (without pydantic's input dump)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        field, problem = _describe(err)
        where = f"{endpoint}: " if endpoint else ""
        label = f"workflow {workflow_id}" if workflow_id is not None else "workflow (id unknown)"
        raise ZuoraValidationError(
            f"{where}{label}{what}: {problem}",
            field=field,
            workflow_id=workflow_id,
            customer=customer,
            endpoint=endpoint,
        ) from None


def parse_list_item(data: object, **kw: Any) -> WorkflowListItem:
    wid = data.get("id") if isinstance(data, dict) else None
    return parse_model(WorkflowListItem, data, workflow_id=wid, **kw)


def parse_export(data: object, *, workflow_id: object, **kw: Any) -> ExportModel:
    return parse_model(ExportModel, data, workflow_id=workflow_id, **kw)


# ---------------------------------------------------------------------------------------------
# The export check of the download: every export of a sync is validated, and ExportModel's
# Python validators and model objects were a top CPU cost per export. This schema runs in
# pydantic-core alone and accepts a strict subset of what ExportModel accepts for any JSON
# document (the clean shape Zuora sends: strings as str, ids as int, booleans as bool), builds
# nothing, and anything it refuses goes through ExportModel, so a body ExportModel refuses is
# refused with the same error, and a body it coerces (a string id, a numeric object_id) is still
# accepted. It is only for decoded JSON: there every key is a string, so unknown keys and the
# contents of free-form objects and lists need no check (copying them cost more than the rest).

_STR = cs.nullable_schema(cs.str_schema(strict=True))
_INT = cs.nullable_schema(cs.int_schema(strict=True))  # strict: a bool is not an int
_BOOL = cs.nullable_schema(cs.bool_schema(strict=True))
_DICT = cs.nullable_schema(cs.is_instance_schema(dict))
_LIST = cs.nullable_schema(cs.is_instance_schema(list))


def _record(fields: dict[str, CoreSchema], *, required: frozenset[str] = frozenset()) -> CoreSchema:
    return cs.typed_dict_schema(
        {name: cs.typed_dict_field(schema, required=name in required) for name, schema in fields.items()},
        extra_behavior="ignore",
        strict=True,
    )


_STRICT_EXPORT_SCHEMA = _record(
    {
        "workflow": _record(
            {
                "id": _INT,
                **dict.fromkeys(("name", "description", "type", "version", "status", "priority", "call_type"), _STR),
                **dict.fromkeys(("ondemand_trigger", "callout_trigger", "scheduled_trigger", "sync_trigger"), _BOOL),
                "interval": _STR,
                "timezone": _STR,
                "delete_ttl": _INT,
                "parameters": _DICT,
                "css": _DICT,
            }
        ),
        "tasks": cs.nullable_schema(
            cs.list_schema(
                _record(
                    {
                        "id": cs.int_schema(strict=True),
                        **dict.fromkeys(("name", "action_type", "call_type", "object", "object_id", "priority"), _STR),
                        "task_id": _INT,
                        "parameters": _DICT,
                        "tags": _LIST,
                        "css": _DICT,
                        "concurrent_limit": _INT,
                        "assignment": _LIST,
                    },
                    required=frozenset({"id"}),
                ),
                strict=True,
            )
        ),
        "linkages": cs.nullable_schema(
            cs.list_schema(
                _record(
                    {
                        "source_workflow_id": _INT,
                        "source_task_id": _INT,
                        "target_task_id": _INT,
                        "linkage_type": _STR,
                    }
                ),
                strict=True,
            )
        ),
    },
    required=frozenset({"workflow"}),
)
_STRICT_EXPORT = SchemaValidator(_STRICT_EXPORT_SCHEMA)


def export_task_ids(data: object, *, workflow_id: object, **kw: Any) -> list[int]:
    """Validate a decoded export as ``parse_export`` does (same acceptance, same
    ZuoraValidationError) and return its task ids, without building an ExportModel when the
    export has the clean shape."""
    try:
        _STRICT_EXPORT.validate_python(data)
    except ValidationError:
        return [task.id for task in parse_export(data, workflow_id=workflow_id, **kw).tasks]
    assert isinstance(data, dict)  # the strict schema accepted it: an object with a tasks array
    return [task["id"] for task in data.get("tasks") or ()]
