from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from zuora_pipeline.zuora import parse_zuora_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-05-31T14:52:38.171Z", datetime(2019, 5, 31, 14, 52, 38, 171000, tzinfo=UTC)),  # list/get
        ("2021-02-04T13:39:10.530+08:00", datetime(2021, 2, 4, 5, 39, 10, 530000, tzinfo=UTC)),  # PATCH
        ("2019-09-19 18:25:33 UTC", datetime(2019, 9, 19, 18, 25, 33, tzinfo=UTC)),  # run / run status
        ("2019-09-19T12:34:41", datetime(2019, 9, 19, 12, 34, 41, tzinfo=UTC)),  # no zone -> UTC
        ("2019-01-16", datetime(2019, 1, 16, tzinfo=UTC)),  # metrics: date only
        ("2019-09-19T12:35:43.857Z", datetime(2019, 9, 19, 12, 35, 43, 857000, tzinfo=UTC)),  # tasks
        ("2019-09-19T12:35:43.123456789Z", datetime(2019, 9, 19, 12, 35, 43, 123456, tzinfo=UTC)),
        ("2019-09-19T12:35:43-05:00", datetime(2019, 9, 19, 17, 35, 43, tzinfo=UTC)),
        ("2019-09-19 18:25:33", datetime(2019, 9, 19, 18, 25, 33, tzinfo=UTC)),
        (" 2019-09-19T18:25:33z ", datetime(2019, 9, 19, 18, 25, 33, tzinfo=UTC)),
    ],
)
def test_documented_formats_become_utc(text: str, expected: datetime) -> None:
    parsed = parse_zuora_datetime(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("unset", [None, "", "   "])
def test_unset_is_none(unset: object) -> None:
    assert parse_zuora_datetime(unset) is None


def test_datetime_and_date_objects() -> None:
    naive = datetime(2020, 1, 1, 12)
    assert parse_zuora_datetime(naive) == naive.replace(tzinfo=UTC)
    aware = datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert parse_zuora_datetime(aware) == datetime(2020, 1, 1, 10, tzinfo=UTC)
    assert parse_zuora_datetime(date(2020, 1, 2)) == datetime(2020, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize("garbage", ["yesterday", "2019-13-45", "31/05/2019", 12345, True, ["x"]])
def test_garbage_raises_rather_than_silently_dropping(garbage: object) -> None:
    with pytest.raises(ValueError):
        parse_zuora_datetime(garbage)


@pytest.mark.parametrize(
    "text",
    [
        "2019-05-31T14:52:38.171Z",
        "2019-09-19T12:35:43.123456789Z",
        "2019-09-19T12:35:43.9999995Z",
        "2021-02-04T13:39:10.530+08:00",
        "2019-09-19T12:34:41",
        "2019-01-16",
        "20190919T123543Z",
    ],
)
def test_the_direct_parse_agrees_with_the_rewrites(text: str) -> None:
    """Strings fromisoformat takes as they are skip the rewrites; the result must not change."""
    from zuora_pipeline.zuora.dates import _parse_text

    slow = _parse_text(text)
    assert slow is not None
    slow = slow.replace(tzinfo=UTC) if slow.tzinfo is None else slow.astimezone(UTC)
    parsed = parse_zuora_datetime(text)
    assert parsed == slow and parsed is not None and parsed.utcoffset() == timedelta(0)
