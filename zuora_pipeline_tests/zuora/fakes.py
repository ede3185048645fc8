"""An in-process fake of Zuora's OAuth + Workflow endpoints for httpx.MockTransport unit tests."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from zuora_pipeline.zuora import ClientSettings, TokenCache, ZuoraClient

BASE = "https://rest.test.zuora.com"
CLIENT_ID = "0b1f2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
SECRET = "s3cr3t-Value_that-must+never/leak=="

Fault = Callable[[httpx.Request], "httpx.Response | None"]


def list_item(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "name": f"wf {i}",
        "description": "",
        "status": "Active",
        "calloutTrigger": True,
        "ondemandTrigger": True,
        "scheduledTrigger": False,
        "interval": None,
        "timezone": None,
        "createdAt": "2019-05-31T14:52:38.171Z",
        "updatedAt": "2019-06-03T21:02:26.694Z",
        "active_version": {
            "id": 10_000 + i,
            "description": "",
            "status": "Active",
            "type": "Workflow::Setup",
            "version": "0.0.1",
        },
        "latest_inactive_verisons": [],
    }


def export_body(i: int) -> dict[str, Any]:
    return {
        "workflow": {"id": 10_000 + i, "name": f"wf {i}", "type": "Workflow::Setup", "version": "0.0.1"},
        "tasks": [
            {
                "id": i * 10 + 1,
                "name": "t",
                "action_type": "Callout",
                "task_id": None,
                "parameters": {"url": "http://x"},
                "tags": [],
            }
        ],
        "linkages": [
            {
                "source_workflow_id": 10_000 + i,
                "source_task_id": None,
                "target_task_id": i * 10 + 1,
                "linkage_type": "Start",
            }
        ],
    }


class FakeZuora:
    def __init__(self, workflows: int = 5, *, expires_in: float = 3599) -> None:
        self.ids = list(range(1, workflows + 1))
        self.expires_in = expires_in
        self.lock = threading.Lock()
        self.token_counter = itertools.count(1)
        self.valid_tokens: set[str] = set()
        self.tokens_issued = 0
        self.requests: list[httpx.Request] = []
        self.faults: list[Fault] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.on_request: Callable[[httpx.Request], None] | None = None

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def count(self, path_part: str) -> int:
        return sum(1 for r in self.requests if path_part in r.url.path)

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.on_request:
                self.on_request(request)
            for fault in list(self.faults):
                response = fault(request)
                if response is not None:
                    return response
            return self.route(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/token":
            form = parse_qs(request.content.decode())
            assert "authorization" not in request.headers
            assert request.method == "POST"
            if (
                form.get("client_id") != [CLIENT_ID]
                or form.get("client_secret") != [SECRET]
                or form.get("grant_type") != ["client_credentials"]
            ):
                return httpx.Response(
                    401, json={"error": "invalid_client", "error_description": "Bad client credentials"}
                )
            with self.lock:
                token = f"tok{next(self.token_counter):029d}"
                self.valid_tokens.add(token)
                self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": token,
                    "token_type": "bearer",
                    "expires_in": self.expires_in,
                    "scope": "x",
                    "jti": "j",
                },
            )
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid_tokens:
            return httpx.Response(401, json={"message": "Authentication error"})
        parts = path.strip("/").split("/")
        if parts == ["workflows"]:
            q = request.url.params
            page, length = int(q.get("page", "1")), int(q.get("page_length", "20"))
            chunk = self.ids[(page - 1) * length : page * length]
            more = page * length < len(self.ids)
            nxt = f"{BASE}/workflows?page={page + 1}&page_length={length}" if more else None
            return httpx.Response(
                200,
                json={
                    "data": [list_item(i) for i in chunk],
                    "pagination": {"next_page": nxt, "page": page, "page_length": length},
                },
            )
        if len(parts) >= 2 and parts[0] == "workflows" and parts[1].isdigit():
            wid = int(parts[1])
            if wid not in self.ids:
                return httpx.Response(
                    404,
                    json={
                        "errors": [
                            {"status": 400, "code": "invalid", "title": f"Workflow version '{wid}' is not found."}
                        ]
                    },
                )
            if len(parts) == 3 and parts[2] == "export":
                return httpx.Response(
                    200, content=json.dumps(export_body(wid)).encode(), headers={"content-type": "application/json"}
                )
            if len(parts) == 2:
                return httpx.Response(200, json=list_item(wid))
        return httpx.Response(404, json={"errors": ["no route"]})

    def revoke_all(self) -> None:
        with self.lock:
            self.valid_tokens.clear()


class SleepRecorder:
    """A fake sleep that records waits and advances a fake clock (for the retry budget)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.lock = threading.Lock()
        self.now = 1000.0

    def __call__(self, seconds: float) -> None:
        with self.lock:
            self.waits.append(seconds)
            self.now += seconds

    def clock(self) -> float:
        with self.lock:
            return self.now


def make_client(
    fake: FakeZuora,
    *,
    settings: ClientSettings | None = None,
    secret: str = SECRET,
    sleep: Callable[[float], None] | None = None,
    cache: TokenCache | None = None,
    base: str = BASE,
    customer: str = "acme",
) -> ZuoraClient:
    import random

    sleep = sleep or SleepRecorder()
    return ZuoraClient(
        base,
        CLIENT_ID,
        secret,
        customer=customer,
        settings=settings or ClientSettings(),
        transport=httpx.MockTransport(fake.handler),
        token_cache=cache or TokenCache(),
        sleep=sleep,
        rng=random.Random(7),
        clock=sleep.clock if isinstance(sleep, SleepRecorder) else time.monotonic,
    )


def once(
    predicate: Callable[[httpx.Request], bool], response: Callable[[], httpx.Response] | Exception, times: int = 1
) -> Fault:
    """A fault that fires `times` times on matching requests."""
    left = [times]
    lock = threading.Lock()

    def fault(request: httpx.Request) -> httpx.Response | None:
        if not predicate(request):
            return None
        with lock:
            if left[0] <= 0:
                return None
            left[0] -= 1
        if isinstance(response, Exception):
            raise response
        return response()

    return fault
