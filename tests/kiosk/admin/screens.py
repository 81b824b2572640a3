"""Screenshots of every admin page in a real window:
``python -m tests.kiosk.admin.screens OUT_DIR``.

Run under an X server (the test starts a private Xvfb). Builds a config in a temporary
folder, a presence service playing a synthetic depth scene, the interaction log
(``storage.EventLog``) with a few hundred shoppers' events, and saves
``status.png``, ``dashboards.png``, ``calibration.png``, ``content.png``, ``hours.png``,
``kiosk.png`` and
``pinpad.png`` (1920x1080, what staff see).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.admin import install_admin
from kiosk.admin.library import ContentLibrary
from kiosk.tasks import TaskRunner
from sensors import Frame, PresenceService, PresenceState, ScriptedSensor, SensorHealth
from sensors.scenes import SCENES, SceneRenderer
from settings import load_config
from tests.kiosk.admin.shopper import ShopperScreenDouble
from tests.kiosk.admin.traffic import fill_log, start_log
from tests.support.admin import write_config

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "drawio" / "features.drawio"


def pump(app: QApplication, seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def main(argv: list[str]) -> int:
    """Write the screenshots into ``argv[0]``."""
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["admin-screens"])
    folder = Path(tempfile.mkdtemp(prefix="admin-screens-"))
    config = load_config(write_config(folder), env={})

    health: list[SensorHealth] = []
    states: list[PresenceState] = []
    renderer = SceneRenderer(SCENES["approach-leave"], width=424, height=240)
    frames = [Frame(timestamp=t, depth=image) for t, image in renderer.frames(15)][:60]
    presence = PresenceService(
        ScriptedSensor(frames, realtime=True, hold_last=True, model="RealSense D435 (recording)"),
        on_state=states.append,
        on_health=health.append,
        settings=config.sensors,
    )
    presence.start()
    event_log = start_log(config)
    fill_log(event_log, sessions=400)

    screen = ShopperScreenDouble(FIXTURE)
    tasks = TaskRunner()
    window = QWidget()
    window.setStyleSheet("background: #0f3b46;")
    window.resize(1920, 1080)
    window.showFullScreen()
    library = ContentLibrary(folder / "content")
    library.record(folder / "spring-offers.drawio", "manager")
    admin = install_admin(
        window,
        config=config,
        screen=screen,
        record=lambda *a, **k: None,
        tasks=tasks,
        event_log=event_log,
        uplink=None,
        presence=presence,
        exit_kiosk=lambda: None,
        started_at=time.time(),
        library=library,
    )
    pump(app, 1.0)

    def shot(name: str) -> None:
        pixmap = app.primaryScreen().grabWindow(0)
        pixmap.save(str(out / f"{name}.png"), "PNG")
        print(out / f"{name}.png", flush=True)

    admin.open_pad()
    assert admin.overlay is not None
    admin.overlay.pad.press("1")
    admin.overlay.pad.press("2")
    pump(app, 0.5)
    shot("pinpad")
    admin.login("manager")
    library.incoming.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE, library.incoming / "summer-offers.drawio")
    for page in ("status", "dashboards", "calibration", "content", "hours", "kiosk"):
        admin.show_page(page)
        if page == "content":
            content: Any = admin.pages["content"]
            content.scan()
            pump(app, 1.0)
            content.check(library.incoming / "summer-offers.drawio")
        if page == "dashboards":
            # its first figures need the reader's child process and a first read: wait for
            # them (up to 20 s on a busy machine) so that the picture shows charts
            dashboards: Any = admin.pages["dashboards"]
            for _ in range(80):
                if "Waiting" not in dashboards.header.text():
                    break
                pump(app, 0.25)
        pump(app, 2.5)
        shot(page)
    admin.shutdown()
    tasks.shutdown()
    presence.stop()
    event_log.stop()
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
