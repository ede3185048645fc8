"""OAuth token endpoint and bearer-token authentication."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest

from zuora_pipeline.simulator.admin_client import TenantInfo
from zuora_pipeline_tests.simulator.support import api_client, get_token

pytestmark = pytest.mark.timeout(60)


def _token_request(
    base_url: str, client_id: str, secret: str, grant_type: str = "client_credentials"
) -> httpx.Response:
    return httpx.post(
        f"{base_url}/oauth/token", data={"client_id": client_id, "client_secret": secret, "grant_type": grant_type}
    )


def test_token_is_issued_in_zuoras_shape(simulator):
    tenant = simulator.admin.tenant("tenant-1")
    assert len(tenant.client_id) == 36 and uuid.UUID(tenant.client_id)
    assert len(tenant.client_secret) <= 42
    before = simulator.admin.stats()["tokens_issued"].get("tenant-1", 0)
    response = _token_request(simulator.base_url, tenant.client_id, tenant.client_secret)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "jti"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["access_token"])
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3599
    assert "tenant." in body["scope"] and "entity." in body["scope"]
    assert len(response.headers["Zuora-Request-Id"]) == 36
    assert simulator.admin.stats()["tokens_issued"]["tenant-1"] == before + 1


def test_bad_credentials_get_invalid_client(simulator, sim_admin_reset):
    tenant = simulator.admin.tenant("tenant-1")
    wrong_secret = _token_request(simulator.base_url, tenant.client_id, "not-the-secret")
    assert wrong_secret.status_code == 401
    assert wrong_secret.json() == {"error": "invalid_client", "error_description": "Bad client credentials"}
    unknown_id = _token_request(simulator.base_url, str(uuid.uuid4()), tenant.client_secret)
    assert unknown_id.status_code == 401
    sim_admin_reset.set_options(bad_credentials_status=400)
    assert _token_request(simulator.base_url, tenant.client_id, "nope").status_code == 400


def test_wrong_grant_type_is_rejected(simulator):
    tenant = simulator.admin.tenant("tenant-1")
    response = _token_request(simulator.base_url, tenant.client_id, tenant.client_secret, grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("authorization", [None, "Bearer 00000000000000000000000000000000", "Basic abc"])
def test_unknown_or_missing_bearer_gets_gateway_401(simulator, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{simulator.base_url}/workflows", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication error"}
    assert (
        response.headers["WWW-Authenticate"]
        == "Basic realm=Zuora API, ZSession realm=Zuora API, Bearer realm=Zuora API"
    )


def test_bearer_token_selects_the_tenant(simulator):
    ids = {}
    for name in ("tenant-1", "tenant-2"):
        with api_client(simulator.base_url, simulator.admin.tenant(name)) as client:
            ids[name] = [item["name"] for item in client.get("/workflows").json()["data"]]
        truth = simulator.admin.truth(name)
        assert ids[name] == [entry["list_item"]["name"] for entry in truth.values()][:20]
    assert ids["tenant-1"] != ids["tenant-2"]


def test_revoked_tokens_get_401_and_only_for_that_tenant(simulator, sim_tenant):
    first: TenantInfo = sim_tenant(workflows=3)
    second: TenantInfo = sim_tenant(workflows=3)
    token_first = get_token(simulator.base_url, first)
    token_second = get_token(simulator.base_url, second)
    simulator.admin.revoke_tokens(first.name)
    revoked = httpx.get(f"{simulator.base_url}/workflows", headers={"Authorization": f"Bearer {token_first}"})
    kept = httpx.get(f"{simulator.base_url}/workflows", headers={"Authorization": f"Bearer {token_second}"})
    assert revoked.status_code == 401
    assert kept.status_code == 200
    fresh = get_token(simulator.base_url, first)
    assert httpx.get(f"{simulator.base_url}/workflows", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_token_expires_after_token_ttl(simulator, sim_admin_reset, sim_tenant):
    tenant = sim_tenant(workflows=2)
    sim_admin_reset.set_limits(token_ttl=1)
    response = _token_request(simulator.base_url, tenant.client_id, tenant.client_secret)
    assert response.json()["expires_in"] == 1
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert httpx.get(f"{simulator.base_url}/workflows", headers=headers).status_code == 200
    time.sleep(1.1)  # the TTL itself is what is under test; expiry is checked on a monotonic clock
    assert httpx.get(f"{simulator.base_url}/workflows", headers=headers).status_code == 401
