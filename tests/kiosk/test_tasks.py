"""The background task API on a real QApplication: work runs on a worker thread, outcomes
come back on the UI thread, failures are logged and handed on, never swallowed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import kiosk  # noqa: F401  (its PySide6 work-around must run before Qt code)
from kiosk.tasks import TaskRunner, TaskRunnerClosed


@pytest.fixture
def runner(qtbot: Any) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(timeout=10.0)


def test_result_is_delivered_on_the_ui_thread(qtbot: Any, runner: TaskRunner) -> None:
    ui = threading.get_ident()
    ran_on: list[int] = []
    got: list[tuple[int, int]] = []

    def work() -> int:
        ran_on.append(threading.get_ident())
        return 42

    task = runner.run(work, name="answer").on_success(
        lambda result: got.append((result, threading.get_ident()))
    )
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert got == [(42, ui)]
    assert ran_on and ran_on[0] != ui
    assert task.finished
    assert runner.pending() == 0


def test_failure_is_logged_with_traceback_and_handed_to_on_failure(
    qtbot: Any, runner: TaskRunner, caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[tuple[Exception, int]] = []
    successes: list[object] = []
    handled: list[str] = []
    runner.set_failure_handler(lambda name, _error: handled.append(name))

    def broken() -> int:
        raise ValueError("the drawing is gone")

    with caplog.at_level(logging.ERROR, logger="kiosk.tasks"):
        runner.run(broken, name="load").on_success(successes.append).on_failure(
            lambda error: failures.append((error, threading.get_ident()))
        )
        qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    error, thread = failures[0]
    assert isinstance(error, ValueError) and str(error) == "the drawing is gone"
    assert thread == threading.get_ident()
    assert successes == [] and handled == []  # on_failure took it, not the default handler
    assert runner.unhandled_failure is None
    records = [r for r in caplog.records if "'load' failed" in r.getMessage()]
    assert records and records[0].exc_info is not None
    assert records[0].exc_info[0] is ValueError


def test_a_failure_without_on_failure_goes_to_the_installed_handler(
    qtbot: Any, runner: TaskRunner
) -> None:
    handled: list[tuple[str, Exception, int]] = []
    runner.set_failure_handler(
        lambda name, error: handled.append((name, error, threading.get_ident()))
    )

    def broken() -> None:
        raise OSError("disk full")

    runner.run(broken, name="keep a copy")
    qtbot.waitUntil(lambda: bool(handled), timeout=10_000)
    name, error, thread = handled[0]
    assert name == "keep a copy" and isinstance(error, OSError)
    assert thread == threading.get_ident()
    assert runner.unhandled_failure == "keep a copy: OSError: disk full"


def test_without_any_handler_the_failure_is_still_reported(
    qtbot: Any, runner: TaskRunner, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("nobody listens")

    with caplog.at_level(logging.ERROR, logger="kiosk.tasks"):
        runner.run(broken, name="orphan")
        qtbot.waitUntil(lambda: runner.pending() == 0, timeout=10_000)
    assert any("nothing handled it" in r.getMessage() for r in caplog.records)


def test_post_runs_on_the_ui_thread_from_a_worker(qtbot: Any, runner: TaskRunner) -> None:
    ui = threading.get_ident()
    seen: list[int] = []
    worker = threading.Thread(
        target=lambda: runner.post(lambda: seen.append(threading.get_ident()))
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen == [ui]


def test_a_lane_runs_its_tasks_one_at_a_time_in_order(qtbot: Any, runner: TaskRunner) -> None:
    release = threading.Event()
    log: list[str] = []
    done: list[str] = []

    def first() -> None:
        log.append("first starts")
        release.wait(10.0)
        log.append("first ends")

    def second() -> None:
        log.append("second starts")

    runner.run(first, name="first", lane="experience").on_success(lambda _r: done.append("1"))
    runner.run(second, name="second", lane="experience").on_success(lambda _r: done.append("2"))
    qtbot.waitUntil(lambda: log == ["first starts"], timeout=10_000)
    release.set()
    qtbot.waitUntil(lambda: len(done) == 2, timeout=10_000)
    assert log == ["first starts", "first ends", "second starts"]
    assert done == ["1", "2"]


def test_shutdown_drops_queued_work_and_refuses_more(qtbot: Any) -> None:
    runner = TaskRunner()
    release = threading.Event()
    started: list[str] = []

    def blocker() -> None:
        started.append("blocker")
        release.wait(10.0)

    runner.run(blocker, name="blocker", lane="one")
    runner.run(lambda: started.append("queued"), name="queued", lane="one")
    qtbot.waitUntil(lambda: started == ["blocker"], timeout=10_000)
    threading.Timer(0.1, release.set).start()
    assert runner.shutdown(timeout=10.0)
    assert started == ["blocker"]  # the queued task never ran
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=10_000)
    with pytest.raises(TaskRunnerClosed, match="'late'"):
        runner.run(lambda: None, name="late")


def test_an_unhandled_failure_shows_on_the_status_page(qtbot: Any, runner: TaskRunner) -> None:
    from kiosk.admin.tiles import system_tile

    assert system_tile(0.0, None, runner.unhandled_failure).level == "ok"

    def broken() -> None:
        raise KeyError("page")

    runner.run(broken, name="dashboards read")
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=10_000)
    tile = system_tile(0.0, None, runner.unhandled_failure)
    assert tile.level == "warn"
    assert "background task failed: dashboards read: KeyError: 'page'" in " ".join(tile.details)


def test_nothing_is_delivered_after_the_shutdown(qtbot: Any) -> None:
    """What finishes while the kiosk stops does not call back into parts already stopped
    (a callback that starts more work would meet a closed runner)."""
    runner = TaskRunner()
    release = threading.Event()
    delivered: list[str] = []

    def slow() -> str:
        release.wait(10.0)
        return "late"

    runner.run(slow, name="slow").on_success(delivered.append)
    threading.Timer(0.1, release.set).start()
    assert runner.shutdown(timeout=10.0)
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=10_000)
    assert delivered == []
