"""``sync_failure_alerts``: tell a human, once, when a sync (or a task re-extraction) finally
failed, whatever launched it.

A run fails only after its step retries are exhausted, so every alert is worth reading. Each
failed customer gets an alert of its own: the run's customer (its ``dagster/partition`` tag), or
in a run of several customers each customer that failed (the step's failure names them, with
their own errors; the customers that synced are not alerted for). An alert names the customer,
what ran, what launched it, the run id and the first line of the error, by email (SMTP) and/or a
JSON webhook. The channels are
the ``alerts`` resource (``AlertChannels``), each field from its environment variable:

| variable | meaning |
|---|---|
| ``ZUORA_PIPELINE_ALERT_SMTP_HOST`` | SMTP server; email is sent when this and ``..._TO`` are set |
| ``ZUORA_PIPELINE_ALERT_SMTP_PORT`` | default 587 with STARTTLS, else 25 |
| ``ZUORA_PIPELINE_ALERT_SMTP_FROM`` | sender, default ``zuora-pipeline@localhost`` |
| ``ZUORA_PIPELINE_ALERT_SMTP_TO`` | recipients, comma separated |
| ``ZUORA_PIPELINE_ALERT_SMTP_USER`` / ``..._PASSWORD`` | optional SMTP login |
| ``ZUORA_PIPELINE_ALERT_SMTP_STARTTLS`` | ``1``/``true`` to upgrade the connection with STARTTLS |
| ``ZUORA_PIPELINE_ALERT_WEBHOOK_URL`` | POST the alert as JSON to this URL |
| ``ZUORA_PIPELINE_ALERT_UI_URL`` | optional Dagster UI base URL, for a link to the run |

Which runs alert, and who sends:
- Runs the Dagster services launch (the UI's Materialize button and backfills, which run as the
  implicit asset job ``__ASSET_JOB``; the schedule; the onboarding sensor; the CLI's queued runs)
  carry this code location's origin: the run-failure sensor sees every one of them
  (``monitored_jobs=None`` means every job of the sensor's own code location).
- Runs executed in the CLI's process (``sync --in-process``, the demo) have no code location
  origin, so no run-failure sensor ever sees them: the runner calls ``alert_in_process_run``.
- ``alert_failed_run`` is the one function both use. It tags the run ``zuora/alert_sent`` once an
  alert went out and skips a run that has the tag, and it skips a run Dagster is about to retry
  (``dagster/will_retry``: the retry's own failure alerts), so each failed sync alerts once.

With neither channel configured only a line is logged. An alert never carries a secret: the
client's errors are already scrubbed of client secrets and tokens, the text is redacted once
more here, and the SMTP password and the webhook URL (which may embed a token) are never shown.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

import dagster as dg
import httpx
from pydantic import Field

from zuora_pipeline.defs.keys import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG, TRIGGER_TAG
from zuora_pipeline.defs.options import PipelineOptions

ENV_PREFIX = "ZUORA_PIPELINE_ALERT_"
SMTP_HOST_ENV = f"{ENV_PREFIX}SMTP_HOST"
SMTP_PORT_ENV = f"{ENV_PREFIX}SMTP_PORT"
SMTP_FROM_ENV = f"{ENV_PREFIX}SMTP_FROM"
SMTP_TO_ENV = f"{ENV_PREFIX}SMTP_TO"
SMTP_USER_ENV = f"{ENV_PREFIX}SMTP_USER"
SMTP_PASSWORD_ENV = f"{ENV_PREFIX}SMTP_PASSWORD"
SMTP_STARTTLS_ENV = f"{ENV_PREFIX}SMTP_STARTTLS"
WEBHOOK_URL_ENV = f"{ENV_PREFIX}WEBHOOK_URL"
UI_URL_ENV = f"{ENV_PREFIX}UI_URL"

SENSOR_NAME = "sync_failure_alerts"
ALERT_SENT_TAG = "zuora/alert_sent"
# Set by Dagster on a failed run it will re-execute (run retries of a crashed run).
WILL_RETRY_TAG = "dagster/will_retry"
IMPLICIT_ASSET_JOB_PREFIX = "__ASSET_JOB"
DEFAULT_SMTP_FROM = "zuora-pipeline@localhost"
MAX_ERROR_CHARS = 500
TIMEOUT_S = 10.0
SENSOR_INTERVAL_S = 15
_log = logging.getLogger(__name__)

_DAGSTER_FAILURE_PREFIX = re.compile(r"^dagster\._core\.[\w.]+\.Failure:\s*")
# Belt and braces: whatever a message carries, these never leave in an alert.
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [REDACTED]"),
    (
        re.compile(
            r"""(?i)\b(client_secret|access_token|refresh_token|password|secret_key)(["']?\s*[=:]\s*["']?)[^\s&,;'"]+"""
        ),
        r"\1\2[REDACTED]",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class AlertChannels(dg.ConfigurableResource):
    """Where failure alerts go. Each field is its ``ZUORA_PIPELINE_ALERT_*`` variable (see
    ``from_environment``), so the Resources page shows the variables' names, never the SMTP
    password or the webhook URL."""

    smtp_host: str | None = Field(default=None, description="SMTP server; email needs smtp_to too")
    smtp_port: int | None = Field(default=None, description="default 587 with STARTTLS, else 25")
    smtp_from: str = Field(default=DEFAULT_SMTP_FROM, description="sender address")
    smtp_to: str | None = Field(default=None, description="recipients, comma separated")
    smtp_user: str | None = Field(default=None, description="optional SMTP login")
    smtp_password: str | None = Field(default=None, description="password of smtp_user (secret)")
    smtp_starttls: bool = Field(default=False, description="upgrade the SMTP connection with STARTTLS")
    webhook_url: str | None = Field(default=None, description="POST the alert as JSON here (secret: may hold a token)")
    ui_url: str | None = Field(default=None, description="Dagster UI base URL, for a link to the run")

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> AlertChannels:
        """The definitions' wiring: each set variable becomes an ``EnvVar`` field (resolved by
        Dagster, shown by name); an unset one keeps the field's default, since an unset
        ``EnvVar`` would fail the sensor. STARTTLS is a flag, decided here."""
        env = os.environ if env is None else env

        def is_set(name: str) -> bool:
            return bool(env.get(name, "").strip())

        fields: dict[str, Any] = {
            name: (dg.EnvVar.int(var) if name == "smtp_port" else dg.EnvVar(var))
            for name, var in _ENV_FIELDS.items()
            if is_set(var)
        }
        return cls(**fields, smtp_starttls=_truthy(env.get(SMTP_STARTTLS_ENV)))

    def recipients(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in (self.smtp_to or "").split(",") if a.strip())

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.recipients())

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_url)


_ENV_FIELDS = {
    "smtp_host": SMTP_HOST_ENV,
    "smtp_port": SMTP_PORT_ENV,
    "smtp_from": SMTP_FROM_ENV,
    "smtp_to": SMTP_TO_ENV,
    "smtp_user": SMTP_USER_ENV,
    "smtp_password": SMTP_PASSWORD_ENV,
    "webhook_url": WEBHOOK_URL_ENV,
    "ui_url": UI_URL_ENV,
}


def resolved(channels: AlertChannels) -> AlertChannels:
    """The channels with their ``EnvVar`` fields read, for use outside a Dagster run or sensor."""
    return channels.process_config_and_initialize()


class Message(Protocol):
    """What a channel sends: a subject, a text for email, a JSON payload for the webhook."""

    @property
    def customer(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def label(self) -> str: ...

    def text(self) -> str: ...

    def payload(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Alert:
    """A run failed for a customer."""

    customer: str
    job: str
    launched_by: str
    run_id: str
    error: str
    run_url: str | None = None

    @property
    def subject(self) -> str:
        return f"[zuora-pipeline] {self.job} failed for customer {self.customer}"

    @property
    def summary(self) -> str:
        return self.error

    @property
    def label(self) -> str:
        return f"run {self.run_id}"

    def text(self) -> str:
        lines = [
            f"The Dagster run {self.run_id} ({self.job}, launched by {self.launched_by}) failed for "
            f"customer {self.customer}.",
            "",
            f"Error: {self.error}",
        ]
        if self.run_url:
            lines += ["", f"Run: {self.run_url}"]
        lines += [
            "",
            "Step retries were exhausted. Fix the cause, then re-run with "
            f"`zuora-pipeline sync --customer {self.customer} --force`.",
        ]
        return "\n".join(lines) + "\n"

    def payload(self) -> dict[str, Any]:
        return {
            "event": "run_failure",
            "customer": self.customer,
            "job": self.job,
            "launched_by": self.launched_by,
            "run_id": self.run_id,
            "error": self.error,
            "run_url": self.run_url,
            "text": f"{self.subject}: {self.error}",
        }


def first_error_line(step_failures: Sequence[dg.DagsterEvent], fallback: str | None) -> str:
    """The first line of the first step failure's error (the run failure event's message if no
    step failed, e.g. a run that could not start), redacted and bounded."""
    for event in step_failures:
        data = event.event_specific_data
        error = getattr(data, "error", None)
        # "Exceeded max_retries of 3" wraps the real error: report the root cause.
        while getattr(error, "cause", None) is not None:
            error = error.cause  # type: ignore[union-attr]
        message = getattr(error, "message", None)
        if message and message.strip():
            line = message.strip().splitlines()[0]
            return redact(_DAGSTER_FAILURE_PREFIX.sub("", line))[:MAX_ERROR_CHARS]
    text = (fallback or "").strip()
    return redact(text.splitlines()[0])[:MAX_ERROR_CHARS] if text else "run failed (no error message)"


def customer_of(tags: Mapping[str, str]) -> str:
    if tags.get(PARTITION_TAG):
        return tags[PARTITION_TAG]
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        return start if start == end else f"{start}...{end}"
    return "(no customer: the run has no partition)"


def launched_by(tags: Mapping[str, str]) -> str:
    if tags.get("dagster/backfill"):
        return f"backfill {tags['dagster/backfill']}"
    if tags.get("dagster/schedule_name"):
        return f"schedule {tags['dagster/schedule_name']}"
    if tags.get("dagster/sensor_name"):
        return f"sensor {tags['dagster/sensor_name']}"
    if tags.get(TRIGGER_TAG):
        return f"zuora-pipeline {tags[TRIGGER_TAG]}"
    return "the Dagster UI or API"


# Step failure metadata of a run of several customers (``defs/assets.py``): each failed
# customer's name and one-line error.
FAILED_CUSTOMERS_KEY = "failed_customers"


def failed_customers(step_failures: Sequence[dg.DagsterEvent]) -> dict[str, str]:
    """The customers a run of several customers names as failed, with their errors."""
    for event in step_failures:
        failure_data = getattr(event.event_specific_data, "user_failure_data", None)
        value = (getattr(failure_data, "metadata", None) or {}).get(FAILED_CUSTOMERS_KEY)
        if value is not None and isinstance(value.value, dict):
            return {str(k): str(v) for k, v in value.value.items()}
    return {}


def build_alerts(
    run: dg.DagsterRun,
    step_failures: Sequence[dg.DagsterEvent],
    failure_message: str | None,
    channels: AlertChannels,
) -> list[Alert]:
    url = f"{channels.ui_url.rstrip('/')}/runs/{run.run_id}" if channels.ui_url else None
    # The Materialize button and backfills run Dagster's implicit asset job.
    job = "materialization" if run.job_name.startswith(IMPLICIT_ASSET_JOB_PREFIX) else run.job_name
    errors = failed_customers(step_failures) or {
        customer_of(run.tags): first_error_line(step_failures, failure_message)
    }
    return [
        Alert(
            customer=customer,
            job=job,
            launched_by=launched_by(run.tags),
            run_id=run.run_id,
            error=redact(error)[:MAX_ERROR_CHARS],
            run_url=url,
        )
        for customer, error in errors.items()
    ]


def send_email(alert: Message, channels: AlertChannels) -> None:
    assert channels.smtp_host
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = channels.smtp_from
    message["To"] = ", ".join(channels.recipients())
    message.set_content(alert.text())
    port = channels.smtp_port or (587 if channels.smtp_starttls else 25)
    with smtplib.SMTP(channels.smtp_host, port, timeout=TIMEOUT_S) as smtp:
        if channels.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if channels.smtp_user:
            smtp.login(channels.smtp_user, channels.smtp_password or "")
        smtp.send_message(message)


def send_webhook(alert: Message, channels: AlertChannels) -> None:
    assert channels.webhook_url
    response = httpx.post(channels.webhook_url, json=alert.payload(), timeout=TIMEOUT_S)
    response.raise_for_status()


def _webhook_host(url: str | None) -> str:
    parts = urlsplit(url or "")
    return parts.hostname or "?"  # never the path or query: they may carry a token


class AlertDeliveryError(RuntimeError):
    """A configured channel could not deliver; ``delivered`` lists those that did."""

    def __init__(self, message: str, delivered: Sequence[str]) -> None:
        super().__init__(message)
        self.delivered = list(delivered)


def deliver(alert: Message, channels: AlertChannels, log: Any) -> list[str]:
    """Send the alert on every configured channel; return the channels that delivered.
    Raises (so the sensor tick shows as failed) if a configured channel could not deliver."""
    if not channels.email_enabled and not channels.webhook_enabled:
        log.info(
            f"{alert.subject}: {alert.summary} (no alert channel configured: set {SMTP_HOST_ENV} "
            f"and {SMTP_TO_ENV}, or {WEBHOOK_URL_ENV})"
        )
        return []
    delivered: list[str] = []
    problems: list[str] = []
    if channels.email_enabled:
        try:
            send_email(alert, channels)
            delivered.append("email")
        except (OSError, smtplib.SMTPException) as exc:
            problems.append(f"email via {channels.smtp_host}: {type(exc).__name__}")
    if channels.webhook_enabled:
        try:
            send_webhook(alert, channels)
            delivered.append("webhook")
        except httpx.HTTPError as exc:
            problems.append(f"webhook to {_webhook_host(channels.webhook_url)}: {type(exc).__name__}")
    if delivered:
        log.info(f"alert for {alert.label} ({alert.customer}) sent by {', '.join(delivered)}")
    if problems:
        raise AlertDeliveryError(f"could not deliver the alert for {alert.label}: {'; '.join(problems)}", delivered)
    return delivered


def alert_failed_run(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    step_failures: Sequence[dg.DagsterEvent],
    failure_message: str | None,
    channels: AlertChannels,
    log: Any,
) -> list[str]:
    """Alert once for a failed run, once per failed customer: the sensor's and the in-process
    runner's one way to do it. Returns the channels that delivered (none when the run already
    alerted or will be retried)."""
    if run.tags.get(ALERT_SENT_TAG):
        log.info(f"run {run.run_id} already alerted ({run.tags[ALERT_SENT_TAG]})")
        return []
    if _truthy(run.tags.get(WILL_RETRY_TAG)):
        log.info(f"run {run.run_id} failed and will be retried: the retry alerts if it fails too")
        return []
    delivered: list[str] = []
    problems: list[str] = []
    for alert in build_alerts(run, step_failures, failure_message, channels):
        try:
            sent = deliver(alert, channels, log)
        except AlertDeliveryError as exc:
            sent = exc.delivered
            problems.append(str(exc))
        delivered += [channel for channel in sent if channel not in delivered]
    _mark_alerted(instance, run, delivered)  # what did go out is not sent again
    if problems:
        raise AlertDeliveryError("; ".join(problems), delivered)
    return delivered


def _mark_alerted(instance: dg.DagsterInstance, run: dg.DagsterRun, delivered: Sequence[str]) -> None:
    if delivered:
        instance.add_run_tags(run.run_id, {ALERT_SENT_TAG: ",".join(delivered)})


def alert_in_process_run(
    instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, channels: AlertChannels | None = None
) -> list[str]:
    """Alert for a failed run executed in this process (the CLI's ``--in-process``, the demo):
    no run-failure sensor sees such a run. Without ``channels`` they come from the environment,
    as the definitions' wiring does. An undeliverable alert is logged, not raised: the caller is
    already reporting the failed run."""
    if result.success:
        return []
    failure = next((e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE), None)
    try:
        return alert_failed_run(
            instance,
            result.dagster_run,
            result.get_step_failure_events(),
            failure.message if failure else None,
            resolved(channels or AlertChannels.from_environment()),
            _log,
        )
    except AlertDeliveryError as exc:
        _log.warning(str(exc))
        return exc.delivered


def build_failure_alerts(options: PipelineOptions) -> dg.SensorDefinition:
    def sync_failure_alerts(context: dg.RunFailureSensorContext, **resources: AlertChannels) -> None:
        alert_failed_run(
            context.instance,
            context.dagster_run,
            context.get_step_failure_events(),
            context.failure_event.message,
            resources[options.alerts_key],
            context.log,
        )

    # A run-failure sensor receives its resources as parameters named by their keys (it takes no
    # ``required_resource_keys``): the signature names the project's key for the alerts resource.
    sync_failure_alerts.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "context", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=dg.RunFailureSensorContext
            ),
            inspect.Parameter(options.alerts_key, inspect.Parameter.KEYWORD_ONLY, annotation=AlertChannels),
        ]
    )
    return dg.run_failure_sensor(
        name=SENSOR_NAME,
        # Every job of this code location: the two named jobs and the implicit asset job that the
        # Materialize button and backfills run.
        monitored_jobs=None,
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Emails and/or POSTs a webhook once for each failed run of this code location (UI "
        "Materialize, backfills, the schedule, the onboarding sensor, queued CLI runs); channels are the "
        f"`{options.alerts_key}` resource ({ENV_PREFIX}* environment variables).",
    )(sync_failure_alerts)
