"""Starting the webhook delivery worker of this process."""

from __future__ import annotations

from service.state import AppState
from service.webhooks.delivery import DeliveryPolicy, WebhookDispatcher


async def start_webhooks(state: AppState) -> None:
    """Deliver the outbox in the background; woken after every commit that queued a delivery."""
    policy = DeliveryPolicy.from_settings(state.settings)
    if policy.poll_interval_s <= 0:
        return  # this process does not deliver (another one does)
    dispatcher = WebhookDispatcher(state.db, policy, state.metrics)
    state.db.on_commit.append(dispatcher.on_commit)
    state.run_in_background("webhook-delivery", dispatcher.run())
    state.stoppers.append(dispatcher.close)
