"""Batches from the outbox to AWS IoT Core or any MQTT broker, and the analysts' receiver."""
