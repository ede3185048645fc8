"""The warehouse is PostgreSQL (psycopg 3) or SQLite: any other URL is refused with one line that
says which URLs work, and never shows a password."""

from __future__ import annotations

import pytest

from zuora_pipeline.warehouse.engine import SUPPORTED_URLS, DatabaseUrlError, normalize_url


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("postgresql://zuora:pw@db:5432/warehouse", "postgresql+psycopg://zuora:pw@db:5432/warehouse"),
        ("postgresql+psycopg://zuora@db/warehouse", "postgresql+psycopg://zuora@db/warehouse"),
        ("sqlite:////var/lib/zuora/warehouse.sqlite", "sqlite:////var/lib/zuora/warehouse.sqlite"),
        ("sqlite+pysqlite:///warehouse.sqlite", "sqlite+pysqlite:///warehouse.sqlite"),
    ],
)
def test_postgresql_and_sqlite_urls_are_accepted(url: str, normalized: str) -> None:
    assert normalize_url(url) == normalized


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("garbage", "warehouse URL 'garbage' is not a database URL"),
        ("", "is not a database URL"),
        ("mysql://zuora:hunter2@db/warehouse", "'mysql://zuora:***@db/warehouse' is not supported (mysql)"),
        ("postgresql+psycopg2://zuora:hunter2@db/w", "is not supported (postgresql+psycopg2)"),
        ("postgres://zuora@db/warehouse", "is not supported (postgres)"),
        ("oracle://zuora@db", "is not supported (oracle)"),
    ],
)
def test_other_urls_are_refused_saying_which_work(url: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        normalize_url(url)
    message = str(refused.value)
    assert says in message and message.endswith(f"use {SUPPORTED_URLS}")
    assert "hunter2" not in message


def test_an_unparseable_url_that_may_hold_a_password_is_not_shown() -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        normalize_url("postgresql://zuora:hunter2@db:notaport/w")
    assert "hunter2" not in str(refused.value)
