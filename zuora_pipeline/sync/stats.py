"""What a finished sync reports per customer: these counts of its sync record, in this order
(the CLI's rows and ``--json`` keys, the demo's and the bench's tables)."""

STAT_KEYS = ("created", "updated", "unchanged", "deleted", "total", "errors", "api_calls", "retries")
