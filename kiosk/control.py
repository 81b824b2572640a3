"""The kiosk's local control socket: how ``python -m simulation`` drives a running kiosk.

A Unix-domain socket (``kiosk --control PATH``; off unless asked for) that takes one JSON
object per line and answers each with one JSON line. Touches arrive as real Qt touch events
on the real window (through the same path a touch screen's events take), presence as
shoppers sent to the driven simulated sensor, so everything the generator causes is recorded
exactly like real traffic, marked ``simulated`` while a generator is connected.

Commands (``{"cmd": NAME, ...}``):

- ``ping`` -> ``{"ok": true}``
- ``simulate`` ``on`` (bool): mark the events that follow as simulated (until the connection
  that asked closes)
- ``state`` -> page, session state, touch targets (window pixels), window size
- ``tap`` ``x``, ``y`` (window pixels): a touch press and release there
- ``swipe`` ``x1``, ``y1``, ``x2``, ``y2``, ``steps``: a touch drag
- ``shopper`` ``stop_m`` (metres or null to pass by), ``dwell_s``, ``speed_m_s``, ``pass_m``
- ``stats`` -> storage health, uplink status, sensor health
- ``probe`` ``action`` = ``start`` | ``stop`` | ``read``: the UI frame-time probe
- ``camera`` ``action`` = ``unplug`` | ``plug``: fault injection on the simulated sensor (it
  fails as an unplugged camera does until plugged in again) -> the sensor's health

Only local processes with access to the socket file can connect; its folder is the kiosk's
data folder and the socket is created with owner-only permissions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QPointingDevice
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from kiosk.models.interactions import EventRecorder
from kiosk.models.shopper_screen import ShopperScreen
from kiosk.screen.frameprobe import FrameProbe
from sensors import PresenceSensor, PresenceService, SensorHealth, SimulatedSensor

if TYPE_CHECKING:
    from storage import EventLog
    from uplink import UplinkService

log = logging.getLogger(__name__)

#: A request line longer than this is refused (the protocol's messages are tiny).
MAX_LINE = 64 * 1024


class ControlError(RuntimeError):
    """The control socket could not be opened (the message says where and why)."""


class RequestError(ValueError):
    """A request the kiosk cannot carry out; its text goes back to the client."""


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, paths and datetimes as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class ControlServer(QObject):
    """Serves the control protocol on ``path`` from the UI thread (non-blocking sockets)."""

    def __init__(
        self,
        path: Path,
        *,
        window: QWidget,
        screen: ShopperScreen,
        recorder: EventRecorder,
        sensor: PresenceSensor | None = None,
        presence: PresenceService | None = None,
        event_log: EventLog | None = None,
        uplink: UplinkService | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._window = window
        self._screen = screen
        self._recorder = recorder
        self._sensor = sensor
        self._presence = presence
        self._event_log = event_log
        self._uplink = uplink
        self._path = path
        #: True while a connected generator asked for its events to be marked simulated.
        self.simulated = False
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}
        self._simulating: set[QLocalSocket] = set()
        self._touch = QTest.createTouchDevice(QPointingDevice.DeviceType.TouchScreen)
        self.probe = FrameProbe(window)
        self._handlers: dict[str, Callable[[QLocalSocket, dict[str, Any]], dict[str, Any]]] = {
            "ping": lambda _s, _r: {},
            "simulate": self._simulate,
            "state": lambda _s, _r: self._state(),
            "tap": lambda _s, r: self._tap(r),
            "swipe": lambda _s, r: self._swipe(r),
            "shopper": lambda _s, r: self._shopper(r),
            "stats": lambda _s, _r: self._stats(),
            "probe": lambda _s, r: self._probe(r),
            "camera": lambda _s, r: self._camera(r),
        }

    @property
    def path(self) -> Path:
        """The socket file."""
        return self._path

    def start(self) -> None:
        """Listen; a stale socket file left by a killed kiosk is replaced."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            if self._path.exists() or self._path.is_symlink():
                if not stat.S_ISSOCK(self._path.lstat().st_mode):
                    raise ControlError(f"control socket {self._path}: exists and is not a socket")
                self._path.unlink()
        except OSError as exc:
            raise ControlError(f"control socket {self._path}: {exc.strerror or exc}") from exc
        if not self._server.listen(str(self._path)):
            raise ControlError(f"control socket {self._path}: {self._server.errorString()}")
        log.info("control socket listening on %s", self._path)

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self.probe.stop()
        for sock in list(self._buffers):
            sock.abort()
        self._buffers.clear()
        self._simulating.clear()
        self.simulated = False
        self._server.close()
        try:
            self._path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("control socket %s: cannot remove: %s", self._path, exc)

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            self._buffers[sock] = b""
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._gone(s))

    def _gone(self, sock: QLocalSocket) -> None:
        self._buffers.pop(sock, None)
        if sock in self._simulating:
            self._simulating.discard(sock)
            self.simulated = bool(self._simulating)
        sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        data = self._buffers.get(sock, b"") + bytes(sock.readAll().data())
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            if line.strip():
                sock.write(self.handle_line(sock, line) + b"\n")
        if len(data) > MAX_LINE:
            sock.write(b'{"ok": false, "error": "request line too long"}\n')
            sock.disconnectFromServer()
            data = b""
        self._buffers[sock] = data

    def handle_line(self, sock: QLocalSocket, line: bytes) -> bytes:
        """One request line -> one response line (never raises: errors are answers)."""
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise RequestError("a request is a JSON object")
            cmd = request.get("cmd")
            handler = self._handlers.get(str(cmd))
            if handler is None:
                raise RequestError(f"unknown command {cmd!r}; known: {', '.join(self._handlers)}")
            answer = {"ok": True, **handler(sock, request)}
        except json.JSONDecodeError as exc:
            answer = {"ok": False, "error": f"not JSON: {exc}"}
        except (RequestError, ValueError, TypeError, KeyError) as exc:
            answer = {"ok": False, "error": str(exc)}
        except Exception as exc:  # a bad request must never take the kiosk down
            log.exception("control request failed: %r", line[:200])
            answer = {"ok": False, "error": f"internal error: {exc}"}
        return json.dumps(jsonable(answer)).encode()

    def _simulate(self, sock: QLocalSocket, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("on", True):
            self._simulating.add(sock)
        else:
            self._simulating.discard(sock)
        self.simulated = bool(self._simulating)
        return {"simulated": self.simulated}

    def _state(self) -> dict[str, Any]:
        return {
            "page": self._screen.current_page(),
            "session": self._screen.session_state(),
            "targets": [target.to_json_dict() for target in self._screen.touch_targets()],
            "width": self._window.width(),
            "height": self._window.height(),
        }

    def _point(self, request: dict[str, Any], kx: str = "x", ky: str = "y") -> QPoint:
        x, y = round(float(request[kx])), round(float(request[ky]))
        if not (0 <= x < self._window.width() and 0 <= y < self._window.height()):
            raise RequestError(
                f"point ({x}, {y}) is outside the window "
                f"({self._window.width()}x{self._window.height()})"
            )
        return QPoint(x, y)

    def _tap(self, request: dict[str, Any]) -> dict[str, Any]:
        point = self._point(request)
        QTest.touchEvent(self._window, self._touch).press(0, point, self._window).commit()
        QTest.touchEvent(self._window, self._touch).release(0, point, self._window).commit()
        return {"page": self._screen.current_page()}

    def _swipe(self, request: dict[str, Any]) -> dict[str, Any]:
        start, end = self._point(request, "x1", "y1"), self._point(request, "x2", "y2")
        steps = max(2, min(int(request.get("steps", 8)), 100))
        QTest.touchEvent(self._window, self._touch).press(0, start, self._window).commit()
        for i in range(1, steps):
            at = start + (end - start) * (i / steps)
            QTest.touchEvent(self._window, self._touch).move(0, at, self._window).commit()
        QTest.touchEvent(self._window, self._touch).release(0, end, self._window).commit()
        return {"page": self._screen.current_page()}

    def _shopper(self, request: dict[str, Any]) -> dict[str, Any]:
        sensor = self._sensor
        if not isinstance(sensor, SimulatedSensor):
            raise RequestError(
                "this kiosk's sensor does not take simulated shoppers "
                '(set [sensors] type = "simulated" and sim_driven = true)'
            )
        stop = request.get("stop_m")
        speed = float(request.get("speed_m_s", 1.1))
        sensor.add_shopper(
            stop_m=None if stop is None else float(stop),
            dwell_s=float(request.get("dwell_s", 10.0)),
            speed_m_s=speed,
            pass_m=float(request.get("pass_m", 3.0)),
        )
        walk = sensor.walk_time_s(float(stop), speed) if stop else 0
        return {"walk_s": walk}

    def _sensor_health(self) -> SensorHealth | None:
        return self._presence.health() if self._presence is not None else None

    def _stats(self) -> dict[str, Any]:
        return {
            "recorded": self._recorder.recorded,
            "storage": self._event_log.health() if self._event_log is not None else None,
            "uplink": self._uplink.status() if self._uplink is not None else None,
            "sensor": self._sensor_health(),
            "session": self._screen.session_state(),
            "page": self._screen.current_page(),
            "pid": os.getpid(),
        }

    def _camera(self, request: dict[str, Any]) -> dict[str, Any]:
        action = request.get("action")
        if action not in ("unplug", "plug"):
            raise RequestError("camera action is one of unplug, plug")
        sensor = self._sensor
        if not isinstance(sensor, SimulatedSensor):
            raise RequestError(
                "only the simulated sensor can be unplugged from here "
                '([sensors] type = "simulated")'
            )
        if action == "unplug":
            sensor.unplug()
        else:
            sensor.plug()
        return {"sensor": self._sensor_health()}

    def _probe(self, request: dict[str, Any]) -> dict[str, Any]:
        action = request.get("action", "read")
        if action == "start":
            self.probe.start()
        elif action == "stop":
            self.probe.stop()
        elif action != "read":
            raise RequestError("probe action is one of start, stop, read")
        return {"frames": self.probe.summary(reset=bool(request.get("reset", False)))}
