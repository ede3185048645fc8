"""Vocabulary the data generator draws from: names, Rails time zones, cron strings, task types.

Names deliberately include quotes, apostrophes, non-Latin scripts and emoji, because those are
what break naive CSV/SQL/JSON handling downstream.
"""

from __future__ import annotations

WORKFLOW_NAMES: tuple[str, ...] = (
    "Sync invoices to Salesforce",
    "Daily payment run — EU",
    'Notify "VIP" accounts of renewals',
    "O'Brien's dunning sequence",
    "Überprüfung offener Rechnungen",
    "請求書の送信",
    "Relance des impayés (écheance)",
    "Usage upload 🚀",
    "Cancel trial subscriptions",
    "Monthly revenue report",
    "Credit memo approval",
    "Account hierarchy cleanup",
    "Callout: tax engine",
    "Bill run \\ backslash test",
    "Tab\tin name",
    "Заявка на возврат",
    "Payment method updater",
    "Write-off < $5 balances",
)

DESCRIPTIONS: tuple[str, ...] = (
    "",
    "",
    "Runs nightly; see runbook.",
    'Owner: finance-ops ("FinOps")',
    "Línea 1\nLínea 2",
    "Triggered by the CPQ callout.",
    "Legacy — do not edit without approval",
)

# Rails ActiveSupport::TimeZone names, as Zuora stores them (not IANA ids).
RAILS_TIMEZONES: tuple[str, ...] = (
    "Sydney",
    "Eastern Time (US & Canada)",
    "UTC",
    "Pacific Time (US & Canada)",
    "London",
    "Tokyo",
    "Berlin",
)

CRON_INTERVALS: tuple[str, ...] = (
    "0 0 * * *",
    "0 0 /1 /1 * *",
    "*/15 * * * *",
    "0 6 * * 1-5",
    "30 2 1 * *",
)

PRIORITIES: tuple[str, ...] = ("Medium", "Medium", "Medium", "High", "Low")

# Weighted towards what real workflows use most; every value is in the spec's Task.action_type enum.
ACTION_TYPES: tuple[str, ...] = (
    "Callout",
    "Callout",
    "Callout",
    "Query",
    "Query",
    "Export",
    "If",
    "Iterate",
    "Create",
    "Update",
    "Email",
    "Logic::Case",
    "Logic::JSONTransform",
    "Logic::CustomCode",
    "Data::Link",
    "Delay",
    "Approval",
    "Billing::BillRun",
    "CustomObject::Query",
    "Payment::PaymentRun",
    "Delete",
    "Cancel",
    "Attachment",
    "Reporting::RunReport",
    "Upload::SFTP",
    "WriteOff",
    "Logic::Lambda",
    "UI::Stop",
)

OBJECTS: tuple[str, ...] = ("Account", "Invoice", "Subscription", "Payment", "Contact", "Usage")

TASK_NAMES: tuple[str, ...] = (
    "Fetch accounts",
    "Call Echo",
    "Check balance > 0",
    "For each invoice",
    "Send e-mail ✉",
    'Transform "payload"',
    "Wait 1h",
    "Approve write-off",
    "Query usage",
    "Update custom field",
    "Création du paiement",
    "Export to S3",
    "Route by region",
)

TAGS: tuple[tuple[str, ...], ...] = ((), ("",), ("billing",), ("billing", "nightly"), ("finance",))
