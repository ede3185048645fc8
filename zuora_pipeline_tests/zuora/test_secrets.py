"""No error path may expose the client secret or an access token (str, repr, args, cause/context)."""

import pickle
from collections.abc import Callable
from urllib.parse import quote_plus

import httpx
import pytest

from zuora_pipeline.zuora import (
    ClientSettings,
    UnsafeBaseUrlError,
    ZuoraAuthenticationError,
    ZuoraClient,
    ZuoraConnectionError,
    ZuoraError,
    ZuoraMalformedResponseError,
    ZuoraNotFoundError,
    ZuoraPaginationError,
    ZuoraRateLimitedError,
    ZuoraRequestError,
    ZuoraServerError,
    ZuoraValidationError,
)

from .fakes import CLIENT_ID, SECRET, FakeZuora, list_item, make_client

TOKEN_PREFIX = "tok0"  # every fake token starts like this


def leaks(err: BaseException, fake: FakeZuora) -> list[str]:
    found = []
    secrets = [SECRET, quote_plus(SECRET), *fake.valid_tokens, *issued(fake)]
    seen: set[int] = set()
    e: BaseException | None = err
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        texts = [str(e), repr(e), *map(repr, e.args), repr(vars(e)) if hasattr(e, "__dict__") else ""]
        for text in texts:
            found += [s for s in secrets if s and s in text]
        e = e.__cause__ or e.__context__
    return found


def issued(fake: FakeZuora) -> list[str]:
    return [f"tok{n:029d}" for n in range(1, fake.tokens_issued + 2)]


def echo_everything(status: int, extra: dict[str, str] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """A hostile/debug server that echoes the request (form body, Authorization header) back."""

    def respond(request: httpx.Request) -> httpx.Response:
        body = {
            "message": f"echo {request.content.decode()} {request.headers.get('authorization')}",
            "errors": [request.content.decode(), str(request.headers.get("authorization"))],
        }
        return httpx.Response(status, json=body, headers=extra or {})

    return respond


def on(
    path_part: str, respond: Callable[[httpx.Request], httpx.Response]
) -> Callable[[httpx.Request], httpx.Response | None]:
    return lambda r: respond(r) if path_part in r.url.path else None


CASES: list[tuple[str, type[ZuoraError], Callable[[FakeZuora], None], Callable[[ZuoraClient], object]]] = [
    (
        "token 401 echo",
        ZuoraAuthenticationError,
        lambda f: f.add_fault(on("/oauth/token", echo_everything(401))),
        lambda c: c.get_workflow(1),
    ),
    (
        "token 400 echo",
        ZuoraAuthenticationError,
        lambda f: f.add_fault(on("/oauth/token", echo_everything(400))),
        lambda c: c.get_workflow(1),
    ),
    (
        "token 429 exhausted",
        ZuoraRateLimitedError,
        lambda f: f.add_fault(on("/oauth/token", echo_everything(429, {"Retry-After": "1"}))),
        lambda c: c.get_workflow(1),
    ),
    (
        "token 200 malformed",
        ZuoraMalformedResponseError,
        lambda f: f.add_fault(on("/oauth/token", lambda r: httpx.Response(200, text=f"access_token={SECRET}"))),
        lambda c: c.get_workflow(1),
    ),
    (
        "401 after refresh",
        ZuoraAuthenticationError,
        lambda f: f.add_fault(on("/workflows", echo_everything(401))),
        lambda c: c.get_workflow(1),
    ),
    (
        "429 exhausted",
        ZuoraRateLimitedError,
        lambda f: f.add_fault(on("/workflows", echo_everything(429))),
        lambda c: c.get_workflow(1),
    ),
    (
        "500 exhausted",
        ZuoraServerError,
        lambda f: f.add_fault(on("/workflows", echo_everything(500))),
        lambda c: c.get_workflow(1),
    ),
    (
        "400",
        ZuoraRequestError,
        lambda f: f.add_fault(on("/workflows", echo_everything(400))),
        lambda c: c.get_workflow(1),
    ),
    (
        "404",
        ZuoraNotFoundError,
        lambda f: f.add_fault(on("/workflows", echo_everything(404))),
        lambda c: c.export_workflow(1),
    ),
    (
        "redirect",
        ZuoraRequestError,
        lambda f: f.add_fault(
            on(
                "/workflows",
                lambda r: httpx.Response(302, headers={"Location": f"https://x/?{r.headers['authorization']}"}),
            )
        ),
        lambda c: c.get_workflow(1),
    ),
    (
        "malformed echo",
        ZuoraMalformedResponseError,
        lambda f: f.add_fault(
            on("/workflows", lambda r: httpx.Response(200, text=f"<{r.headers['authorization']} {SECRET}>"))
        ),
        lambda c: list(c.iter_workflow_pages()),
    ),
    (
        "validation",
        ZuoraValidationError,
        lambda f: f.add_fault(
            on(
                "/workflows",
                lambda r: httpx.Response(
                    200, json={"data": [{"id": 1, "name": None, "description": r.headers["authorization"]}]}
                ),
            )
        ),
        lambda c: list(c.iter_workflow_pages()),
    ),
    (
        "pagination loop",
        ZuoraPaginationError,
        lambda f: f.add_fault(
            on(
                "/workflows",
                lambda r: httpx.Response(
                    200, json={"data": [list_item(1)], "pagination": {"next_page": "/workflows?page=1&page_length=50"}}
                ),
            )
        ),
        lambda c: list(c.iter_workflow_pages()),
    ),
    (
        "connection",
        ZuoraConnectionError,
        lambda f: f.add_fault(
            on(
                "/workflows",
                lambda r: (_ for _ in ()).throw(httpx.ConnectError(f"refused {r.headers['authorization'][:3]}")),
            )
        ),
        lambda c: c.get_workflow(1),
    ),
]


@pytest.mark.parametrize(("name", "error", "arrange", "act"), CASES, ids=[c[0] for c in CASES])
def test_no_secret_or_token_in_errors(
    name: str, error: type[ZuoraError], arrange: Callable[[FakeZuora], None], act: Callable[[ZuoraClient], object]
) -> None:
    fake = FakeZuora()
    arrange(fake)
    with make_client(fake, settings=ClientSettings(max_attempts=2)) as client:
        with pytest.raises(error) as info:
            act(client)
    assert leaks(info.value, fake) == []
    assert info.value.customer == "acme"
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is type(info.value) and str(clone) == str(info.value)
    assert clone.endpoint == info.value.endpoint and clone.status == info.value.status
    assert leaks(clone, fake) == []


def test_client_repr_and_vars_do_not_show_the_secret() -> None:
    with make_client(FakeZuora()) as client:
        client.get_workflow(1)
        dumped = repr(client) + repr(vars(client))
        assert SECRET not in dumped and "tok0" not in dumped


def test_unsafe_base_url_refused_before_any_request() -> None:
    fake = FakeZuora()
    for url in ["https://evil.example", "http://rest.zuora.com", "https://u:p@rest.zuora.com"]:
        with pytest.raises(UnsafeBaseUrlError) as info:
            ZuoraClient(url, CLIENT_ID, SECRET, customer="acme", transport=httpx.MockTransport(fake.handler))
        assert info.value.customer == "acme" and SECRET not in str(info.value)
    assert fake.requests == []
