from datetime import UTC, datetime, timedelta

from zuora_pipeline.audit.freshness import CustomerSync, age_text, freshness, paused_table, stale_table

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MAX = timedelta(hours=2)


def test_stale_means_active_and_never_synced_or_older_than_the_limit():
    report = freshness(
        [
            CustomerSync("fresh", "active", NOW - timedelta(minutes=119)),
            CustomerSync("edge", "active", NOW - MAX),
            CustomerSync("late", "active", NOW - timedelta(hours=5, minutes=3)),
            CustomerSync("new", "active", None),
            CustomerSync("off", "paused", None, "paused by an operator"),
        ],
        NOW,
        MAX,
    )
    assert [c.name for c in report.stale] == ["new", "late"]  # never synced first, then the oldest
    assert [c.name for c in report.paused] == ["off"] and report.active == 4
    assert "| new | never | never synced |" in stale_table(report, NOW)
    assert "| late | 2026-12-01T06:57:00+00:00 | 5 h 3 min |" in stale_table(report, NOW)
    assert "| off | paused by an operator | never |" in paused_table(report)


def test_age_text():
    assert age_text(NOW - timedelta(minutes=7), NOW) == "7 min"
    assert age_text(NOW - timedelta(days=2, hours=1), NOW) == "2 d 1 h"


def test_a_pipe_in_a_pause_reason_does_not_break_the_table():
    report = freshness([CustomerSync("x", "paused", None, "bad | creds\nagain")], NOW, MAX)
    assert "| x | bad \\| creds again | never |" in paused_table(report)
