"""What the tests share, imported by name (never from a conftest): a hand-driven clock, one
way to wait for something, hand-made draw.io files and the uplink tests' MQTT helpers."""
