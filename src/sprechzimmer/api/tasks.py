"""The worker's part of webhooks (docs/api.md, "Webhooks"): one task per delivery with only the
delivery's id, retried with a doubling wait; each attempt is recorded for the practice to see."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone
from huey.contrib.djhuey import db_task

from sprechzimmer.api import webhooks
from sprechzimmer.api.models import WebhookDelivery

log = logging.getLogger("sprechzimmer.api")
Status = WebhookDelivery.Status


class WebhookNotDelivered(Exception):
    """A failed attempt, so that the worker tries again later."""


@db_task(retries=settings.WEBHOOK_RETRIES, retry_delay=settings.WEBHOOK_RETRY_SECONDS, retry_backoff=2, context=True)
def deliver_webhook(delivery_id: int, task=None) -> None:  # type: ignore[no-untyped-def]
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status not in (Status.PENDING, Status.RETRYING):
        return  # the webhook was deleted meanwhile, or this attempt ran already
    attempts = delivery.attempts + 1
    try:
        webhooks.post(delivery.webhook, delivery)
    except webhooks.DeliveryFailed as failed:
        last = task is None or not task.retries
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=Status.FAILED if last else Status.RETRYING,
            attempts=attempts,
            last_attempt_at=timezone.now(),
            last_error=failed.reason[:200],
        )
        log.warning("webhook delivery %s failed (%s)%s", delivery_id, failed.reason, "" if last else "; retried later")
        raise WebhookNotDelivered(f"delivery {delivery_id}: {failed.reason}") from None
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=Status.DELIVERED, attempts=attempts, last_attempt_at=timezone.now(), last_error=""
    )
    log.info("webhook delivery %s delivered", delivery_id)
