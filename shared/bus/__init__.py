"""The event bus: transactional outbox, relay, idempotent consumers, dead letters, broker epochs."""
