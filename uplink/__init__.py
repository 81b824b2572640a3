"""Batches from the outbox to AWS IoT Core or any MQTT broker, and the analysts' receiver.

``UplinkService(config, outbox)`` drains a ``storage.Outbox`` (``start``/``stop``/``status``);
``kiosk-uplink`` runs it alone and ``kiosk-receive`` lands the batches in SQLite. No Qt here.
"""

from uplink.batch import (
    SCHEMA_NAME,
    SCHEMA_VERSION,
    UplinkMessage,
    serialise_batch,
    serialise_json,
)
from uplink.credentials import CredentialError
from uplink.service import UplinkService, UplinkStatus
from uplink.transport import (
    AwsIotTransport,
    BrokerEndpoint,
    PahoTransport,
    TransportError,
    UplinkTransport,
    build_transport,
)

__all__ = [
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "AwsIotTransport",
    "BrokerEndpoint",
    "CredentialError",
    "PahoTransport",
    "TransportError",
    "UplinkMessage",
    "UplinkService",
    "UplinkStatus",
    "UplinkTransport",
    "build_transport",
    "serialise_batch",
    "serialise_json",
]
