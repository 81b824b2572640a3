"""What the kiosk loads before its first page is on the screen (issue 17, boot time): not
SQLAlchemy, redis, jsonschema, numpy or OpenCV, and not the admin panel; those come with
the parts that start behind the first page, and OpenCV only with a camera's pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.boot import kiosk_config

#: Libraries a kiosk does not need to paint its first page (about 1 s of imports in all;
#: platformdirs only when the config names no data folder, tomli_w for --print-config).
HEAVY = (
    "sqlalchemy", "redis", "jsonschema", "numpy", "cv2", "paho", "segno", "kiosk.admin.controller",
    "platformdirs", "tomli_w",
)  # fmt: skip

CHILD = """
import json, logging, sys
from PySide6.QtWidgets import QApplication
import settings.service_manager
from kiosk.cli import main

heavy = sys.argv[2].split(",")
seen = []

def loaded():
    return sorted(name for name in heavy if name in sys.modules)

ready = settings.service_manager.ServiceManager.ready

def said_ready(manager, status):
    seen.append(["READY", loaded()])
    ready(manager, status)

class PartsStarted(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("kiosk parts:"):
            seen.append([record.getMessage(), loaded()])
            QApplication.instance().exit(0)

settings.service_manager.ServiceManager.ready = said_ready
logging.getLogger("kiosk.app").addHandler(PartsStarted(logging.INFO))
code = main(["--config", sys.argv[1], "--log-level", "INFO"])
print(json.dumps(seen))
sys.exit(code)
"""


def test_the_first_page_is_painted_before_storage_and_camera_libraries_load(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    root = Path(__file__).resolve().parents[2]
    # the benchmark's kiosk: no camera, no Redis, no uplink
    config = kiosk_config(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(config), ",".join(HEAVY)],
        env=env, cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    # READY=1 (the first page painted) before the parts start, with none of them loaded
    assert seen[0] == ["READY", []]
    # behind it: the event log (SQLAlchemy, redis; jsonschema only to explain a refused
    # event), the sensor service (numpy) and the admin panel; no camera, so no OpenCV, and
    # no uplink, so no MQTT
    assert seen[1] == [
        "kiosk parts: event log on, presence on, uplink off",
        ["kiosk.admin.controller", "numpy", "platformdirs", "redis", "sqlalchemy"],
    ]
