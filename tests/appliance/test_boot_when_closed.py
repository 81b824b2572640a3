"""A kiosk started while the shop is closed (a power cut at night, a restart by the watchdog
after hours) still tells systemd it is ready: the schedule starts behind the first page, so
the page is painted (READY=1) before the screen goes dark. Started the other way round, the
page view was hidden before it ever painted, no READY came, and systemd killed and restarted
the kiosk every ``TimeoutStartSec`` all night."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.appliance.test_sd_notify import NotifySocket, notify_socket  # noqa: F401
from tests.support.waiting import wait_until

#: No opening hours on any day: closed whenever the test runs.
CLOSED_ALL_WEEK = "[schedule]\nenabled = true\n" + "".join(
    f"{day} = []\n"
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)


def test_a_kiosk_started_while_closed_says_ready_then_goes_dark(
    tmp_path: Path,
    notify_socket: NotifySocket,  # noqa: F811
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{tmp_path / "data"}"\n\n[sensors]\ntype = "none"\n\n'
        "[redis]\nenabled = false\n\n[uplink]\nenabled = false\n\n" + CLOSED_ALL_WEEK,
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(QT_QPA_PLATFORM="offscreen", NOTIFY_SOCKET=str(notify_socket.path))
    log = tmp_path / "stderr.log"
    with log.open("w", encoding="utf-8") as stderr:
        app = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "--config", str(config), "--log-level", "INFO"],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        try:
            wait_until(lambda: "schedule: close" in log.read_text(encoding="utf-8"),
                       "the screen to go dark", timeout=60)  # fmt: skip
        finally:
            app.send_signal(signal.SIGTERM)
            app.wait(timeout=60)
    err = log.read_text(encoding="utf-8")
    assert app.returncode == 0, err
    # ready with the first page painted, before the schedule darkened the screen
    assert notify_socket.texts()[0].startswith("READY=1\nSTATUS=showing attract"), err
    assert "Traceback" not in err
