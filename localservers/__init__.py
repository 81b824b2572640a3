"""Private redis-server and mosquitto processes on free loopback ports.

Used by the test fixtures, the benchmarks and ``python -m simulation.pipeline``. Each server is a
real Debian binary started in its own folder, bound to 127.0.0.1 only, and stopped (or
killed, to test what survives) by the caller. No Qt, no product imports.
"""

from localservers.mosquitto import Mosquitto
from localservers.pki import TestPki, make_test_pki
from localservers.ports import free_port, wait_for_port
from localservers.process import ServerNotInstalled, ServerProcess
from localservers.redis_server import RedisServer
from localservers.xvfb import Xvfb, screenshot_kiosk

__all__ = [
    "Mosquitto",
    "RedisServer",
    "ServerNotInstalled",
    "ServerProcess",
    "TestPki",
    "Xvfb",
    "free_port",
    "make_test_pki",
    "screenshot_kiosk",
    "wait_for_port",
]
