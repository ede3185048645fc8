"""The Zuora-compatible endpoints: ``POST /oauth/token`` and the read-only Workflow API.

Order of checks for an authenticated call, chosen to mirror a gateway in front of a service:
bearer token -> per-minute rate limit -> concurrency cap -> fault plan -> latency -> handler.
"""

from __future__ import annotations

import asyncio
import email.utils
import hmac
import re
import time
from collections.abc import Sequence
from urllib.parse import parse_qsl

from zuora_pipeline.simulator import render
from zuora_pipeline.simulator.asgi import (
    Header,
    Receive,
    Reply,
    Request,
    Send,
    read_body,
    send_reply,
)
from zuora_pipeline.simulator.config import SimulatorConfig
from zuora_pipeline.simulator.faults import Fault
from zuora_pipeline.simulator.limits import RateWindows
from zuora_pipeline.simulator.state import SimulatorState
from zuora_pipeline.simulator.tenant import Tenant

DEFAULT_PAGE_LENGTH = 20
MAX_PAGE_LENGTH = 50
AUTH_PER_MINUTE = 2000  # Zuora's documented AUTH quota, reported (not enforced) on /oauth/token
_VERSION_RE = re.compile(r"\d+(\.\d+)*")
_IMMEDIATE_FAULTS = frozenset({"500", "502", "503", "429", "401", "404"})


def classify(path: str) -> tuple[str, str | None]:
    """Map a path to (endpoint name, raw workflow id)."""
    parts = [part for part in path.split("/") if part]
    if parts == ["oauth", "token"]:
        return "token", None
    if not parts or parts[0] != "workflows":
        return "other", None
    if len(parts) == 1:
        return "list", None
    if len(parts) == 2:
        return "get", parts[1]
    if len(parts) == 3 and parts[2] in ("export", "versions"):
        return parts[2], parts[1]
    return "other", None


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _page_params(request: Request | None) -> tuple[int, int]:
    """(page, page_length) of a list request, defaulted and clamped, for the "mutate" fault."""
    if request is None:
        return 1, DEFAULT_PAGE_LENGTH
    page = _int_or_none(request.query.get("page", "1")) or 1
    length = _int_or_none(request.query.get("page_length", str(DEFAULT_PAGE_LENGTH))) or DEFAULT_PAGE_LENGTH
    return max(page, 1), min(max(length, 1), MAX_PAGE_LENGTH)


def retry_after_seconds(value: str) -> int:
    """Seconds a Retry-After value (delta-seconds or HTTP-date) asks for; used for RateLimit-Reset."""
    if value.strip().isdigit():
        return int(value.strip())
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    if parsed is None:
        return 1
    return max(0, int(parsed.timestamp() - time.time() + 0.999))


def retry_headers(config: SimulatorConfig) -> list[Header]:
    if config.retry_after_mode == "header":
        return [(b"retry-after", config.retry_after.encode())]
    reset = retry_after_seconds(config.retry_after)
    limit = config.max_concurrency or 40
    return [
        (b"ratelimit-limit", str(limit).encode()),
        (b"ratelimit-remaining", b"0"),
        (b"ratelimit-reset", str(reset).encode()),
    ]


def not_found(raw_id: str | None) -> Reply:
    return Reply(404, render.workflow_error(f"Workflow '{raw_id}' is not found."))


def bad_request(title: str) -> Reply:
    return Reply(400, render.workflow_error(title))


class WorkflowApi:
    def __init__(self, state: SimulatorState) -> None:
        self.state = state
        self._auth_windows = RateWindows()

    async def __call__(self, request: Request, receive: Receive, send: Send) -> None:
        stats = self.state.stats
        endpoint, raw_id = classify(request.path)
        stats.requests_total += 1
        stats.by_endpoint[endpoint] += 1
        if endpoint == "token":
            await self._token(request, receive, send)
            return
        config = self.state.config
        tenant_name = self.state.tokens.tenant_for(request.bearer_token())
        tenant = self.state.tenants.get(tenant_name) if tenant_name else None
        if tenant is None:
            await self._latency(config)
            await self._send(send, request, endpoint, self._auth_error())
            return
        extra: list[Header] = []
        if config.rate_per_minute is not None:
            decision = self.state.rates.hit(tenant.name, config.rate_per_minute)
            extra = decision.headers()
            if not decision.allowed:
                await self._latency(config)
                headers = (
                    [] if config.retry_after_mode == "absent" else [(b"retry-after", str(decision.reset_s).encode())]
                )
                await self._send(
                    send, request, endpoint, Reply(429, render.rate_limited_body(decision.reset_s), headers), extra
                )
                return
        in_flight = stats.in_flight
        if in_flight.enter(tenant.name) > (config.max_concurrency or 1 << 62):
            in_flight.leave(tenant.name)  # a rejected request does not hold a slot while it waits
            stats.in_flight_limit_rejections += 1
            await self._latency(config)
            await self._send(send, request, endpoint, Reply(429, render.CONCURRENCY_BODY, retry_headers(config)), extra)
            return
        try:
            await self._admitted(request, send, endpoint, raw_id, tenant, config, extra)
        finally:
            in_flight.leave(tenant.name)

    async def _admitted(
        self,
        request: Request,
        send: Send,
        endpoint: str,
        raw_id: str | None,
        tenant: Tenant,
        config: SimulatorConfig,
        extra: list[Header],
    ) -> None:
        if endpoint == "other" or request.method not in ("GET", "HEAD"):
            await self._latency(config)
            reply = (
                Reply(404, render.workflow_error(f"No route matches {request.path}", 404))
                if endpoint == "other"
                else Reply(405, render.dumps({"message": "Method Not Allowed"}))
            )
            await self._send(send, request, endpoint, reply, extra)
            return
        page = _int_or_none(request.query.get("page", "1")) if endpoint == "list" else None
        fault = self.state.faults.decide(endpoint, tenant.name, _int_or_none(raw_id), page)
        if fault is not None:
            self.state.stats.faults_injected[fault.kind] += 1
        await self._latency(config)
        faulted = await self._fault_reply(fault, endpoint, raw_id, tenant, config, request)
        if faulted is not None:
            reply = faulted
        elif endpoint == "list":
            kind = fault.kind if fault is not None else None
            reply = self._list(request, tenant, config, empty=kind == "empty", loop=kind == "loop")
        elif endpoint == "get":
            reply = self._get(raw_id, tenant, config)
        elif endpoint == "export":
            reply = self._export(request, raw_id, tenant)
        else:
            reply = self._versions(raw_id, tenant)
        mode = fault.kind if fault is not None and _cuts_the_body(fault.kind, reply.status) else "normal"
        await self._send(send, request, endpoint, reply, extra, mode)

    async def _fault_reply(
        self,
        fault: Fault | None,
        endpoint: str,
        raw_id: str | None,
        tenant: Tenant | None,
        config: SimulatorConfig,
        request: Request | None = None,
    ) -> Reply | None:
        """A replacement reply for faults that replace the answer; side effects for the rest."""
        if fault is None:
            return None
        kind = fault.kind
        if kind == "timeout":
            await asyncio.sleep(self.state.faults.hang_s)
            return None
        if kind == "mutate" and tenant is not None:
            page, page_length = _page_params(request)
            tenant.mutate(
                add=int(fault.mutation.get("add", 0)),
                delete=int(fault.mutation.get("delete", 0)),
                update=int(fault.mutation.get("update", 0)),
                seed=int(fault.mutation.get("seed", 0)),
                delete_before=(page - 1) * page_length,
            )
            return None
        if kind not in _IMMEDIATE_FAULTS:
            return None
        if kind == "429":
            return Reply(429, render.CONCURRENCY_BODY, retry_headers(config))
        if kind == "401":
            if endpoint == "token":
                return Reply(401, render.BAD_CLIENT_BODY)
            return self._auth_error()
        if kind == "404":
            return (
                not_found(raw_id)
                if endpoint != "export"
                else Reply(404, render.workflow_error(f"Workflow version '{raw_id}' is not found."))
            )
        return Reply(int(kind), render.SERVER_ERROR_BODIES[int(kind)])

    # ---- endpoints ---------------------------------------------------------------------------

    async def _token(self, request: Request, receive: Receive, send: Send) -> None:
        config = self.state.config
        if request.method != "POST":
            await self._send(send, request, "token", Reply(405, render.dumps({"message": "Method Not Allowed"})))
            return
        form = dict(parse_qsl((await read_body(receive)).decode("utf-8", "replace"), keep_blank_values=True))
        client_id = form.get("client_id", "")
        tenant = self.state.tenant_by_client_id(client_id)
        fault = self.state.faults.decide("token", tenant.name if tenant else None)
        if fault is not None:
            self.state.stats.faults_injected[fault.kind] += 1
        await self._latency(config)
        reply = await self._fault_reply(fault, "token", None, None, config)
        if reply is None:
            reply = self._issue(form, tenant, config)
        mode = fault.kind if fault is not None and _cuts_the_body(fault.kind, reply.status) else "normal"
        await self._send(send, request, "token", reply, mode=mode)

    def _issue(self, form: dict[str, str], tenant: Tenant | None, config: SimulatorConfig) -> Reply:
        grant_type = form.get("grant_type")
        if grant_type != "client_credentials":
            return Reply(
                400,
                render.dumps(
                    {"error": "unsupported_grant_type", "error_description": f"Unsupported grant type: {grant_type}"}
                ),
            )
        secret = form.get("client_secret", "")
        if tenant is None or not hmac.compare_digest(secret.encode(), tenant.client_secret.encode()):
            return Reply(config.bad_credentials_status, render.BAD_CLIENT_BODY)
        issued = self.state.tokens.issue(tenant.name, config.token_ttl, self.state.tenant_number(tenant.name))
        self.state.stats.tokens_issued[tenant.name] += 1
        window = self._auth_windows.hit(tenant.name, AUTH_PER_MINUTE)
        headers = [
            (b"x-ratelimit-limit-minute", str(AUTH_PER_MINUTE).encode()),
            (b"x-ratelimit-remaining-minute", str(window.remaining).encode()),
        ]
        body = render.dumps(
            {
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scope,
                "jti": issued.jti,
            }
        )
        return Reply(200, body, headers)

    def _list(
        self, request: Request, tenant: Tenant, config: SimulatorConfig, *, empty: bool, loop: bool = False
    ) -> Reply:
        raw_page = request.query.get("page", "1")
        raw_length = request.query.get("page_length", str(DEFAULT_PAGE_LENGTH))
        page, page_length = _int_or_none(raw_page), _int_or_none(raw_length)
        if page is None or page < 1:
            return bad_request(f"The input of page '{raw_page}' is invalid.")
        if page_length is None or page_length < 1:
            return bad_request(f"The input of page_length '{raw_length}' is invalid.")
        if page_length > MAX_PAGE_LENGTH:
            if config.page_length_over_max == "reject":
                return bad_request(f"page_length must be less than or equal to {MAX_PAGE_LENGTH}.")
            page_length = MAX_PAGE_LENGTH
        ids = [] if empty else tenant.page_ids(page, page_length)
        has_next = not empty and page * page_length < len(tenant.order)
        pagination: dict[str, object] = {}
        if loop:
            pagination["next_page"] = f"{request.base_url()}/workflows?page={page}&page_length={page_length}"
        elif has_next:
            pagination["next_page"] = f"{request.base_url()}/workflows?page={page + 1}&page_length={page_length}"
        elif config.last_page_next != "omit":
            pagination["next_page"] = None if config.last_page_next == "null" else ""
        pagination["page"] = page
        pagination["page_length"] = page_length
        items = b",".join(tenant.list_item_bytes(i, config.no_active_version_repr) for i in ids)
        return Reply(200, b'{"data":[%s],"pagination":%s}' % (items, render.dumps(pagination)))

    def _get(self, raw_id: str | None, tenant: Tenant, config: SimulatorConfig) -> Reply:
        workflow_id = _int_or_none(raw_id)
        if workflow_id is None or workflow_id not in tenant.definitions:
            return not_found(raw_id)
        return Reply(200, tenant.get_item_bytes(workflow_id, config.no_active_version_repr))

    def _export(self, request: Request, raw_id: str | None, tenant: Tenant) -> Reply:
        workflow_id = _int_or_none(raw_id)
        definition = tenant.definitions.get(workflow_id) if workflow_id is not None else None
        if definition is None:
            return not_found(raw_id)
        wanted = request.query.get("version") or None
        if wanted is None:
            version = definition.active_version()
            if version is None:
                return Reply(404, render.workflow_error(f"Workflow version '{raw_id}' is not found."))
        elif wanted == "latest":
            version = definition.latest_version()
            if version is None:
                return Reply(404, render.workflow_error(f"Workflow version '{wanted}' is not found."))
        elif not _VERSION_RE.fullmatch(wanted):
            return bad_request(f"The input of version '{wanted}' is invalid.")
        else:
            version = definition.find_version(wanted)
            if version is None:
                return Reply(404, render.workflow_error(f"Workflow version '{wanted}' is not found."))
        entry = tenant.export_entry(version)
        body = entry[0]
        assert body is not None
        cache, key = tenant.exports, version.id
        return Reply(200, body, gz=entry[1], on_gzip=lambda gz: cache.add_gzip(key, entry, gz))

    def _versions(self, raw_id: str | None, tenant: Tenant) -> Reply:
        workflow_id = _int_or_none(raw_id)
        definition = tenant.definitions.get(workflow_id) if workflow_id is not None else None
        if definition is None:
            return not_found(raw_id)
        return Reply(200, render.dumps(render.versions_body(definition)))

    # ---- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _auth_error() -> Reply:
        return Reply(401, render.AUTH_ERROR_BODY, [(b"www-authenticate", render.WWW_AUTHENTICATE)])

    @staticmethod
    async def _latency(config: SimulatorConfig) -> None:
        if config.latency_ms > 0:
            await asyncio.sleep(config.latency_ms / 1000.0)

    async def _send(
        self,
        send: Send,
        request: Request,
        endpoint: str,
        reply: Reply,
        extra: Sequence[Header] = (),
        mode: str = "normal",
    ) -> None:
        self.state.stats.record(endpoint, reply.status)
        if request.method == "HEAD":
            reply = Reply(reply.status, b"", reply.headers)
        await send_reply(send, request, reply, extra_headers=extra, mode=mode)


def _cuts_the_body(kind: str, status: int) -> bool:
    """A dropped connection cuts whatever reply was on its way (a 404 too); a malformed body only
    makes sense in place of a successful one."""
    return kind == "drop" or (kind == "malformed" and status == 200)
