import pytest

from zuora_pipeline.zuora import (
    ZUORA_REST_HOSTS,
    UnsafeBaseUrlError,
    ZuoraPaginationError,
    check_base_url,
    parse_allowed_hosts,
)
from zuora_pipeline.zuora.urls import resolve_next_page

DOCUMENTED = [
    "rest.test.zuora.com",
    "rest.sandbox.na.zuora.com",
    "rest.apisandbox.zuora.com",
    "rest.na.zuora.com",
    "rest.zuora.com",
    "rest.test.eu.zuora.com",
    "rest.sandbox.eu.zuora.com",
    "rest.eu.zuora.com",
    "rest.test.ap.zuora.com",
    "rest.ap.zuora.com",
    "rest.pt1.zuora.com",
]


def test_table_matches_zuora_api_md() -> None:
    assert set(DOCUMENTED) == ZUORA_REST_HOSTS


@pytest.mark.parametrize("host", DOCUMENTED)
def test_each_documented_host_is_accepted(host: str) -> None:
    assert check_base_url(f"https://{host}") == f"https://{host}"
    assert check_base_url(f"https://{host.upper()}/") == f"https://{host}"
    assert check_base_url(f"https://{host}:443") == f"https://{host}"


@pytest.mark.parametrize(
    "url",
    [
        "http://rest.zuora.com",  # plain http to Zuora
        "https://rest.zuora.com.evil.com",
        "https://evil.com",
        "https://zuora.com",
        "https://user:pw@rest.zuora.com",  # userinfo
        "https://user@rest.zuora.com",
        "https://rest.zuora.com/v1",  # path
        "https://rest.zuora.com/?x=1",  # query
        "https://rest.zuora.com/#frag",
        "https://rest.zuora.com:8443",  # documented host, other port
        "ftp://rest.zuora.com",
        "rest.zuora.com",
        "",
        " https://rest.zuora.com",
        "https://rest.zuora.com\\@evil.com",
        "https://rest.zuora.com:notaport",
        "http://127.0.0.1:8080",  # loopback but not listed
        "http://localhost:8080",
    ],
)
def test_refused(url: str) -> None:
    with pytest.raises(UnsafeBaseUrlError):
        check_base_url(url)


def test_unsafe_base_url_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        check_base_url("https://evil.com")


def test_listed_hosts() -> None:
    assert (
        check_base_url("https://zuora.internal.example", ["zuora.internal.example"]) == "https://zuora.internal.example"
    )
    # host:port pins the port; a bare host allows any port
    assert check_base_url("https://proxy.example:8443", ["proxy.example:8443"]) == "https://proxy.example:8443"
    with pytest.raises(UnsafeBaseUrlError):
        check_base_url("https://proxy.example:9443", ["proxy.example:8443"])
    assert check_base_url("https://proxy.example:9443", ["proxy.example"]) == "https://proxy.example:9443"


@pytest.mark.parametrize(
    ("url", "entry", "normalised"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9/", "localhost", "http://localhost:9"),
        ("http://[::1]:8080", "[::1]:8080", "http://[::1]:8080"),
        ("http://127.0.0.2:80", "127.0.0.2", "http://127.0.0.2"),
    ],
)
def test_plain_http_only_for_listed_loopback(url: str, entry: str, normalised: str) -> None:
    assert check_base_url(url, [entry]) == normalised
    with pytest.raises(UnsafeBaseUrlError):
        check_base_url(url)


def test_plain_http_refused_for_listed_non_loopback() -> None:
    with pytest.raises(UnsafeBaseUrlError, match="http"):
        check_base_url("http://zuora.internal.example", ["zuora.internal.example"])


def test_parse_allowed_hosts() -> None:
    assert parse_allowed_hosts(" 127.0.0.1:8080, Foo.example  bar.example:1,") == (
        "127.0.0.1:8080",
        "foo.example",
        "bar.example:1",
    )
    assert parse_allowed_hosts("") == ()


def test_message_does_not_echo_long_inputs() -> None:
    with pytest.raises(UnsafeBaseUrlError) as info:
        check_base_url("https://evil.com/" + "x" * 500)
    assert "x" * 100 not in str(info.value)


BASE = "https://rest.zuora.com"


@pytest.mark.parametrize(
    ("next_page", "expected"),
    [
        (
            "https://rest.zuora.com/workflows?page=2&page_length=50",
            "https://rest.zuora.com/workflows?page=2&page_length=50",
        ),
        ("/workflows?page=2&page_length=50", "https://rest.zuora.com/workflows?page=2&page_length=50"),
        ("workflows?page=3", "https://rest.zuora.com/workflows?page=3"),
        ("https://REST.zuora.com:443/workflows?page=2", "https://rest.zuora.com/workflows?page=2"),
    ],
)
def test_next_page_resolved(next_page: str, expected: str) -> None:
    assert resolve_next_page(next_page, BASE) == expected


@pytest.mark.parametrize(
    "next_page",
    [
        "https://evil.com/workflows?page=2",
        "http://rest.zuora.com/workflows?page=2",  # scheme downgrade
        "https://rest.zuora.com:8443/workflows?page=2",
        "https://rest.na.zuora.com/workflows?page=2",  # another Zuora host is still another origin
        "//evil.com/workflows",
        "https://u:p@rest.zuora.com/workflows",
    ],
)
def test_next_page_to_other_origin_refused(next_page: str) -> None:
    with pytest.raises(ZuoraPaginationError, match="another origin|unusable"):
        resolve_next_page(next_page, BASE, customer="acme", page=1)


def test_plain_http_on_an_unlisted_loopback_port_names_the_port_and_the_entry() -> None:
    with pytest.raises(UnsafeBaseUrlError) as refused:
        check_base_url("http://127.0.0.1:9999", ["127.0.0.1:8089"])
    message = str(refused.value)
    assert "port 9999" in message and "127.0.0.1 is listed for port 8089 only" in message
    assert "ZUORA_PIPELINE_ALLOWED_HOSTS=127.0.0.1:9999" in message and "only https" not in message
    # Once listed as it says, the URL is accepted.
    assert check_base_url("http://127.0.0.1:9999", ["127.0.0.1:8089", "127.0.0.1:9999"]) == "http://127.0.0.1:9999"
    with pytest.raises(UnsafeBaseUrlError, match=r"add \[::1\]:8080 to ZUORA_PIPELINE_ALLOWED_HOSTS"):
        check_base_url("http://[::1]:8080")


def test_plain_http_to_another_machine_is_refused_as_such() -> None:
    with pytest.raises(UnsafeBaseUrlError, match="uses plain http; only https is allowed"):
        check_base_url("http://zuora.internal.example:8080", ["zuora.internal.example"])
