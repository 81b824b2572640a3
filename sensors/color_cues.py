"""People counts (HOG) and "looking at the screen" (frontal faces) from colour frames.

Both detectors are slow next to the depth step, so they run at a low rate and their last
answer is held for a while. OpenCV 5 keeps ``HOGDescriptor`` and ``CascadeClassifier`` in
contrib (``opencv-contrib-python-headless``); the frontal-face Haar cascade comes from
Debian's ``opencv-data`` package when it is installed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sensors.state import Observation

if TYPE_CHECKING:
    import cv2

log = logging.getLogger(__name__)

HOG_INTERVAL_S = 1.0
FACE_INTERVAL_S = 0.5
#: A detector's answer stands this long (seconds of frame time).
HOLD_S = 2.0
#: Colour frames are shrunk to this width before detection.
DETECT_WIDTH = 320
#: A face narrower than this share of the frame is too far away to be using the screen.
MIN_FACE_SHARE = 0.06

CASCADE_NAME = "haarcascade_frontalface_default.xml"
CASCADE_DIRS = (
    Path("/usr/share/opencv4/haarcascades"),
    Path("/usr/share/opencv/haarcascades"),
    Path("/usr/local/share/opencv4/haarcascades"),
)


def find_face_cascade() -> Path | None:
    """The frontal-face Haar cascade file, or None when no copy is installed."""
    import cv2  # with the detectors, not with the module (a kiosk may have no camera)

    candidates = list(CASCADE_DIRS)
    bundled: str = str(getattr(getattr(cv2, "data", None), "haarcascades", "") or "")
    if bundled:
        candidates.append(Path(bundled))
    for folder in candidates:
        path = folder / CASCADE_NAME
        if path.is_file():
            return path
    return None


class ColorCues:
    """Refines depth observations with colour: HOG people counts and frontal faces.

    ``problem`` names what could not be set up (the kiosk still works without it).
    """

    def __init__(self, *, hog: bool, faces: bool) -> None:
        self.problem = ""
        self._hog: cv2.HOGDescriptor | None = None
        self._faces: cv2.CascadeClassifier | None = None
        if hog or faces:
            import cv2  # with the detectors, not with the module (a kiosk may have no camera)
        if hog:
            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(
                np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32)
            )
        if faces:
            path = find_face_cascade()
            if path is None:
                self.problem = (
                    f"faces = true but {CASCADE_NAME} is not installed "
                    "(Debian package opencv-data); looking is not detected"
                )
                log.warning("%s", self.problem)
            else:
                cascade = cv2.CascadeClassifier(str(path))
                if cascade.empty():
                    self.problem = f"cannot load the face cascade {path}"
                    log.warning("%s", self.problem)
                else:
                    self._faces = cascade
        self._hog_at: float | None = None
        self._hog_count = 0
        self._face_at: float | None = None
        self._looking: bool | None = None

    @property
    def enabled(self) -> bool:
        """True when at least one detector is set up."""
        return self._hog is not None or self._faces is not None

    def refine(
        self, observation: Observation, color: npt.NDArray[np.uint8], t: float
    ) -> Observation:
        """``observation`` with people raised to the HOG count and ``looking`` filled in,
        when someone is seen at all (colour alone never makes presence)."""
        small: npt.NDArray[np.uint8] | None = None
        if self._hog is not None and (self._hog_at is None or t - self._hog_at >= HOG_INTERVAL_S):
            small = _shrink(color)
            self._hog_at = t
            self._hog_count = self.count_people(small)
        if self._faces is not None and (
            self._face_at is None or t - self._face_at >= FACE_INTERVAL_S
        ):
            small = _shrink(color) if small is None else small
            self._face_at = t
            self._looking = self.faces_looking(small)
        if observation.nearest_m is None:
            return observation
        people = observation.people
        if self._hog is not None and self._hog_at is not None and t - self._hog_at <= HOLD_S:
            people = max(people, self._hog_count)
        looking = observation.looking
        if self._faces is not None:
            looking = bool(self._looking)
        return Observation(observation.share, observation.nearest_m, people, looking)

    def count_people(self, image: npt.NDArray[np.uint8]) -> int:
        """People HOG finds in a (small) BGR image."""
        assert self._hog is not None
        boxes, weights = self._hog.detectMultiScale(image, winStride=(8, 8), padding=(8, 8))
        return int(sum(1 for w in np.ravel(weights) if w > 0.5)) if len(boxes) else 0

    def faces_looking(self, image: npt.NDArray[np.uint8]) -> bool:
        """True when a frontal face big enough to be at the screen is in a BGR image."""
        import cv2  # loaded by __init__ already: a look-up in sys.modules

        assert self._faces is not None
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        min_side = max(20, int(MIN_FACE_SHARE * gray.shape[1]))
        found = self._faces.detectMultiScale(
            gray, scaleFactor=1.15, minNeighbors=5, minSize=(min_side, min_side)
        )
        return len(found) > 0


def _shrink(color: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    import cv2  # loaded by ColorCues.__init__ already: a look-up in sys.modules

    height, width = color.shape[:2]
    if width <= DETECT_WIDTH:
        return color
    scale = DETECT_WIDTH / width
    size = (DETECT_WIDTH, max(1, round(height * scale)))
    return np.asarray(cv2.resize(color, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
