"""The event schema and the durable interaction log: SQLite, Redis and the uplink outbox."""
