"""Fixtures shared by every test: real servers on free loopback ports, Qt offscreen."""

from __future__ import annotations

import faulthandler
import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localservers import Mosquitto, RedisServer, TestPki, make_test_pki
from tests.corpus import (
    CURATED_CORPUS,
    SHARED_CORPUS,
    CorpusChoiceError,
    DrawioCorpus,
    choose_corpus,
)

# pytest-qt renders without a screen; a test that wants a real window uses Xvfb itself.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
# The shared corpus beside the repository (development machines only): use the drawio_corpus
# fixture, which falls back to the curated set in tests/fixtures/corpus when this is absent.
CORPUS = SHARED_CORPUS


def pytest_configure(config: pytest.Config) -> None:
    """Cyclic garbage collection only on the main thread, as the kiosk does (kiosk.app):
    collected from a writer or loader thread, Qt objects left in cycles by one test would be
    destroyed off their thread and crash a later one."""
    gc.disable()
    global _REAL_STDERR
    # fd 2 is pytest's capture file by now: the terminal's stderr is the copy pytest's fd
    # capture saved (its attribute is not public API: without it, fd 2)
    capture = config.pluginmanager.getplugin("capturemanager")
    err = getattr(getattr(capture, "_global_capturing", None), "err", None)
    saved = getattr(err, "targetfd_save", None)
    _REAL_STDERR = os.fdopen(os.dup(saved if isinstance(saved, int) else 2), "w")


#: Where a deadlock's stacks go: the terminal's stderr, past pytest's capture (pytest_configure).
_REAL_STDERR = sys.__stderr__
#: A test still running after this many seconds is deadlocked: pytest-timeout (300 s) did not
#: end it because it needs the GIL, which a thread blocked inside Qt may hold.
DEADLOCK_S = int(os.environ.get("KIOSK_TEST_DEADLOCK_S", "420"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Past ``DEADLOCK_S``, print every thread's stack (C code: no GIL needed) and end the run,
    so a deadlock names itself instead of eating CI's budget in silence."""
    faulthandler.dump_traceback_later(DEADLOCK_S, exit=True, file=_REAL_STDERR)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Collect what the test left in cycles, here on the main thread."""
    gc.collect()


def _require(server_cls: type) -> None:
    if not server_cls.available():
        pytest.fail(
            f"{server_cls.binary} is not installed (Debian package {server_cls.package}); "
            "run scripts/setup-system"
        )


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, stopped after the test."""
    _require(RedisServer)
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A real plain-MQTT mosquitto on a free loopback port."""
    _require(Mosquitto)
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made here."""
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def mosquitto_tls(tmp_path: Path, test_pki: TestPki) -> Iterator[Mosquitto]:
    """A real mosquitto that requires TLS and a client certificate (like AWS IoT Core)."""
    _require(Mosquitto)
    broker = Mosquitto(tmp_path / "mosquitto-tls", pki=test_pki)
    broker.start()
    yield broker
    broker.stop()


def pytest_report_header(config: pytest.Config) -> str:
    """Say which draw.io corpus the corpus tests run over (tests/corpus.py)."""
    try:
        return choose_corpus().describe()
    except CorpusChoiceError as error:
        return f"draw.io corpus: {error}"


@pytest.fixture
def drawio_corpus() -> DrawioCorpus:
    """The real public draw.io files a corpus test runs over: the 156 of ../shared/corpus/drawio
    where it exists, else the 48 curated ones in tests/fixtures/corpus/drawio (a list of paths;
    ``.full`` and ``.at_least(full=..., curated=...)`` say which, see tests/corpus.py)."""
    try:
        return choose_corpus()
    except CorpusChoiceError as error:
        pytest.fail(str(error))


@pytest.fixture
def curated_corpus() -> DrawioCorpus:
    """The curated real draw.io files inside the repository, whatever is beside it."""
    return DrawioCorpus(CURATED_CORPUS, full=False, reason="asked for by the test")
