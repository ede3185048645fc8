"""Retry policies: the job queue's retries of the Laravel system, as Dagster step retries.

The Laravel system tried 3 times, waiting 60/300/900 s. Seconds-scale retries of single HTTP calls live in
the client, so a step retry means Zuora (or the warehouse) was unwell for minutes: by default
60 s, then 180 s, then 420 s, each +/- 60 s of jitter so a fleet of customers does not come back
at the same instant. ZUORA_PIPELINE_STEP_RETRY_DELAY_S scales the base delay (tests use a
fraction of a second); it is read when the code location loads.
"""

import os

import dagster as dg

STEP_RETRY_DELAY_ENV = "ZUORA_PIPELINE_STEP_RETRY_DELAY_S"
_base_delay = float(os.environ.get(STEP_RETRY_DELAY_ENV, "60"))

SYNC_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=_base_delay, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
