"""The ops automation: a webhook call when a tenant run fails, crashes or is blocked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

AUTOMATION_NAME = "entrasync: tenant run failed, crashed or blocked"
WEBHOOK_BLOCK = "entrasync-ops-webhook"
# `prefect.flow-run.<state name>`: a blocked run is a Failed state named "Blocked" (R4).
NOTIFY_ON = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.Blocked")
# Slack and Teams incoming webhooks both show the `text` of a JSON body.
PAYLOAD = (
    '{"text": {{ ("entrasync: " ~ flow_run.name ~ " ended " ~ flow_run.state.name ~ ": "'
    " ~ flow_run.state.message) | tojson }},"
    ' "flow_run": {{ flow_run.name | tojson }}, "state": {{ flow_run.state.name | tojson }},'
    ' "tags": {{ flow_run.tags | tojson }}, "url": {{ (flow_run | ui_url) | tojson }}}'
)


def failure_trigger() -> Any:
    """Any `sync-tenant` flow run entering Failed, Crashed or Blocked, one event at a time."""
    from prefect.events.schemas.automations import EventTrigger, Posture

    return EventTrigger(
        expect=set(NOTIFY_ON),
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "flow", "prefect.resource.name": "sync-tenant"},
        posture=Posture.Reactive,
        threshold=1,
        within=timedelta(0),
    )


def install_failure_automation(webhook_url: str) -> UUID:
    """Store the URL in a Webhook block (a secret field) and (re)create the automation."""
    from prefect.automations import Automation, CallWebhook
    from prefect.blocks.webhook import Webhook
    from prefect.client.orchestration import get_client

    block_id = Webhook(method="POST", url=webhook_url).save(WEBHOOK_BLOCK, overwrite=True)
    with get_client(sync_client=True) as client:
        for existing in client.read_automations_by_name(AUTOMATION_NAME):
            client.delete_automation(existing.id)
    automation = Automation(
        name=AUTOMATION_NAME,
        description="Calls the ops webhook for every sync-tenant run that fails, crashes or "
        "is blocked by the deactivation safety rule (R4). Installed by "
        "`entrasync automations install`.",
        trigger=failure_trigger(),
        actions=[CallWebhook(block_document_id=block_id, payload=PAYLOAD)],
    ).create()
    return automation.id
