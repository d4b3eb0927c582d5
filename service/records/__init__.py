"""Department records as stored (source_records and their revisions) and as the API shows them.

The feeds write them; incidents, the entity file, exports and webhooks read them.
"""
