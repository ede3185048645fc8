"""Retry policy of the API-facing steps: the Laravel job's 3 tries, with exponential backoff.

The seeds waited 60/300/900 s; seconds-scale retries of single HTTP calls already live in the
client, so a step retry means Zuora was unwell for minutes: 60 s, then 180 s, then 420 s,
each +/- 60 s of jitter so a fleet of customers does not come back at the same instant.
"""

import dagster as dg

API_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
# Warehouse-only steps: a dropped database connection is worth a quick retry.
WAREHOUSE_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL)
