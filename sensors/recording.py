"""Writing synthetic scenes to RealSense recordings (``.db3``, or ``.bag``).

pyrealsense2 cannot stream a software device through a pipeline directly (2.59), so scenes
are injected into an ``rs.software_device`` wrapped by an ``rs.recorder``, and the file is
then played back through the real pipeline like any recording from a camera.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sensors.scenes import DEPTH_UNITS_M, HALF_FOV_RAD, SceneRenderer, scene_by_name

if TYPE_CHECKING:
    # Imported when recording (an optional library); named here for the types only.
    import pyrealsense2

log = logging.getLogger(__name__)

#: Camera name and serial number written into synthetic recordings.
SYNTHETIC_NAME = "Synthetic shop floor"
SYNTHETIC_SERIAL = "000000000000"


class RecordingError(RuntimeError):
    """A recording could not be written; ``str()`` is one line naming the file."""


def record_scene(
    path: Path,
    scene_name: str,
    *,
    width: int = 424,
    height: int = 240,
    fps: int = 30,
    seed: int = 0,
    compress: bool = True,
) -> int:
    """Record scene ``scene_name`` to ``path`` (``.db3`` or ``.bag``) and return the number
    of frames written. Frame timestamps start at 0 ms and advance by ``1000/fps``.

    Raises ValueError for an unknown scene, :class:`RecordingError` when pyrealsense2 is
    missing or the file cannot be written.
    """
    scene = scene_by_name(scene_name)
    try:
        import pyrealsense2 as rs
    except ImportError:
        raise RecordingError("pyrealsense2 is not installed; cannot record") from None
    path = Path(path)
    _make_room_for(path)
    renderer = SceneRenderer(scene, width=width, height=height, seed=seed)
    device, sensor, profile = _synthetic_camera(rs, width, height, fps)
    try:
        recorder = rs.recorder(str(path), device, compress)
    except RuntimeError as exc:
        raise RecordingError(f"{path}: cannot record ({exc})") from None
    # The recorder sees frames as the software sensor emits them; the queue just drains them.
    queue = rs.frame_queue(4)
    sensor.open(profile)
    sensor.start(queue)
    count = 0
    try:
        for index, (t, depth) in enumerate(renderer.frames(fps)):
            sensor.on_video_frame(_depth_frame(rs, profile, index, t, depth, width))
            while queue.poll_for_frame():
                pass
            count += 1
    finally:
        sensor.stop()
        sensor.close()
        recorder.pause()
        # The file is finished when the recorder is released.
        del recorder
    log.info("recorded scene %s: %d frames %dx%d at %d fps to %s", scene.name, count, width,
             height, fps, path)  # fmt: skip
    return count


def _make_room_for(path: Path) -> None:
    """Check that ``path`` may hold a recording and remove an older file there."""
    if path.suffix not in (".db3", ".bag"):
        raise RecordingError(f"{path}: a recording must end in .db3 or .bag")
    if not path.parent.is_dir():
        raise RecordingError(f"{path}: folder {path.parent} does not exist")
    if path.exists():
        path.unlink()


def _synthetic_camera(
    rs: ModuleType, width: int, height: int, fps: int
) -> tuple[pyrealsense2.software_device, pyrealsense2.software_sensor, pyrealsense2.stream_profile]:
    """A software device named like a camera, with one z16 depth stream of the scene's size
    (the intrinsics of :data:`~sensors.scenes.HALF_FOV_RAD`), its sensor and the profile."""
    device = rs.software_device()
    device.register_info(rs.camera_info.name, SYNTHETIC_NAME)
    device.register_info(rs.camera_info.serial_number, SYNTHETIC_SERIAL)
    sensor = device.add_sensor("Stereo Module")
    sensor.add_read_only_option(rs.option.depth_units, DEPTH_UNITS_M)
    intrinsics = rs.intrinsics()
    intrinsics.width, intrinsics.height = width, height
    intrinsics.ppx, intrinsics.ppy = width / 2, height / 2
    intrinsics.fx = intrinsics.fy = (width / 2) / math.tan(HALF_FOV_RAD)
    intrinsics.model = rs.distortion.brown_conrady
    intrinsics.coeffs = [0.0] * 5
    stream = rs.video_stream()
    stream.type = rs.stream.depth
    stream.index = 0
    stream.uid = 0
    stream.width, stream.height, stream.fps = width, height, fps
    stream.bpp = 2
    stream.fmt = rs.format.z16
    stream.intrinsics = intrinsics
    profile = sensor.add_video_stream(stream).as_video_stream_profile()
    return device, sensor, profile


def _depth_frame(
    rs: ModuleType,
    profile: pyrealsense2.stream_profile,
    index: int,
    t: float,
    depth: npt.NDArray[np.uint16],
    width: int,
) -> pyrealsense2.software_video_frame:
    """Frame ``index`` of the recording: ``depth`` at ``t`` seconds, on the camera's clock."""
    frame = rs.software_video_frame()
    frame.pixels = depth
    frame.bpp = 2
    frame.stride = width * 2
    frame.timestamp = t * 1000.0
    frame.domain = rs.timestamp_domain.hardware_clock
    frame.frame_number = index
    frame.profile = profile
    frame.depth_units = DEPTH_UNITS_M
    return frame
