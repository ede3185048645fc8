"""``sync_failure_alerts``: tell a human when a sync (or a task re-extraction) finally failed.

A run fails only after its step retries are exhausted, so every alert is worth reading. The
alert names the customer (the run's ``dagster/partition`` tag), the job, the run id and the first
line of the error, by email (SMTP) and/or a JSON webhook, configured from the environment:

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

With neither channel configured the sensor only logs a line. An alert never carries a secret:
the client's errors are already scrubbed of client secrets and tokens, the text is redacted once
more here, and the SMTP password and the webhook URL (which may embed a token) are never shown.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import httpx

from zuora_pipeline.defs.jobs import reextract_tasks, sync_customer_workflows

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
PARTITION_TAG = "dagster/partition"
MAX_ERROR_CHARS = 500
TIMEOUT_S = 10.0

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


@dataclass(frozen=True)
class AlertSettings:
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_from: str = "zuora-pipeline@localhost"
    smtp_to: tuple[str, ...] = ()
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    webhook_url: str | None = field(default=None, repr=False)
    ui_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        port = get(SMTP_PORT_ENV)
        return cls(
            smtp_host=get(SMTP_HOST_ENV),
            smtp_port=int(port) if port else None,
            smtp_from=get(SMTP_FROM_ENV) or "zuora-pipeline@localhost",
            smtp_to=tuple(a.strip() for a in (get(SMTP_TO_ENV) or "").split(",") if a.strip()),
            smtp_user=get(SMTP_USER_ENV),
            smtp_password=env.get(SMTP_PASSWORD_ENV) or None,
            smtp_starttls=_truthy(env.get(SMTP_STARTTLS_ENV)),
            webhook_url=get(WEBHOOK_URL_ENV),
            ui_url=get(UI_URL_ENV),
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_to)

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_url)


@dataclass(frozen=True)
class Alert:
    customer: str
    job: str
    run_id: str
    error: str
    run_url: str | None = None

    @property
    def subject(self) -> str:
        return f"[zuora-pipeline] {self.job} failed for customer {self.customer}"

    def text(self) -> str:
        lines = [
            f"The Dagster run {self.run_id} of job {self.job} failed for customer {self.customer}.",
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


def build_alert(
    run: dg.DagsterRun,
    step_failures: Sequence[dg.DagsterEvent],
    failure_message: str | None,
    settings: AlertSettings,
) -> Alert:
    customer = run.tags.get(PARTITION_TAG) or "(no customer: the run has no partition)"
    url = f"{settings.ui_url.rstrip('/')}/runs/{run.run_id}" if settings.ui_url else None
    return Alert(
        customer=customer,
        job=run.job_name,
        run_id=run.run_id,
        error=first_error_line(step_failures, failure_message),
        run_url=url,
    )


def send_email(alert: Alert, settings: AlertSettings) -> None:
    assert settings.smtp_host
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.smtp_to)
    message.set_content(alert.text())
    port = settings.smtp_port or (587 if settings.smtp_starttls else 25)
    with smtplib.SMTP(settings.smtp_host, port, timeout=TIMEOUT_S) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def send_webhook(alert: Alert, settings: AlertSettings) -> None:
    assert settings.webhook_url
    response = httpx.post(settings.webhook_url, json=alert.payload(), timeout=TIMEOUT_S)
    response.raise_for_status()


def _webhook_host(url: str | None) -> str:
    parts = urlsplit(url or "")
    return parts.hostname or "?"  # never the path or query: they may carry a token


def deliver(alert: Alert, settings: AlertSettings, log: Any) -> list[str]:
    """Send the alert on every configured channel; return the channels that delivered.
    Raises (so the sensor tick shows as failed) if a configured channel could not deliver."""
    if not settings.email_enabled and not settings.webhook_enabled:
        log.info(
            f"{alert.subject}: {alert.error} (no alert channel configured: set {SMTP_HOST_ENV} "
            f"and {SMTP_TO_ENV}, or {WEBHOOK_URL_ENV})"
        )
        return []
    delivered: list[str] = []
    problems: list[str] = []
    if settings.email_enabled:
        try:
            send_email(alert, settings)
            delivered.append("email")
        except (OSError, smtplib.SMTPException) as exc:
            problems.append(f"email via {settings.smtp_host}: {type(exc).__name__}")
    if settings.webhook_enabled:
        try:
            send_webhook(alert, settings)
            delivered.append("webhook")
        except httpx.HTTPError as exc:
            problems.append(f"webhook to {_webhook_host(settings.webhook_url)}: {type(exc).__name__}")
    if delivered:
        log.info(f"alert for run {alert.run_id} ({alert.customer}) sent by {', '.join(delivered)}")
    if problems:
        raise RuntimeError(f"could not deliver the alert for run {alert.run_id}: {'; '.join(problems)}")
    return delivered


@dg.run_failure_sensor(
    name=SENSOR_NAME,
    monitored_jobs=[sync_customer_workflows, reextract_tasks],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Emails and/or POSTs a webhook when a customer's sync or task re-extraction "
    f"run fails (configured by {ENV_PREFIX}* environment variables).",
)
def sync_failure_alerts(context: dg.RunFailureSensorContext) -> None:
    settings = AlertSettings.from_env()
    alert = build_alert(
        context.dagster_run,
        context.get_step_failure_events(),
        context.failure_event.message,
        settings,
    )
    deliver(alert, settings, context.log)
