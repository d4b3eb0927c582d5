"""Every table, imported in one place for Alembic and the model/migration agreement test."""

from service.auth.models import Principal
from service.db.base import Base
from service.feeds.definitions.models import FeedDefinitionVersion
from service.incidents.models import Attachment, Incident, IncidentNote
from service.ledger.models import AppMeta, LedgerEvent, LedgerHead
from service.records.models import SourceRecord, SourceRecordRevision
from service.registry.models import Entity
from service.visits.models import Visit
from service.webhooks.models import DeliveryAttempt, OutboxMessage, Webhook

__all__ = [
    "AppMeta",
    "Attachment",
    "Base",
    "DeliveryAttempt",
    "Entity",
    "FeedDefinitionVersion",
    "Incident",
    "IncidentNote",
    "LedgerEvent",
    "LedgerHead",
    "OutboxMessage",
    "Principal",
    "SourceRecord",
    "SourceRecordRevision",
    "Visit",
    "Webhook",
]
