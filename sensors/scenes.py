"""Synthetic depth scenes of a shop floor, for tests and for ``kiosk-sensor record``.

A depth camera sits ``CAMERA_HEIGHT_M`` above the floor looking level into the shop: a wall
at ``WALL_M``, the floor below the horizon, a display stand on the left (part of the empty
scene). Shoppers are flat silhouettes (an ellipse for the head on a rounded body) facing
the camera at some distance and lateral offset, following a piecewise-linear path in time.
Each scene knows the true nearest distance at any time, so tests can compare what the
presence logic reports with what happened.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

CAMERA_HEIGHT_M = 1.1
#: Half the horizontal field of view (the D435's depth camera: 87 degrees).
HALF_FOV_RAD = math.radians(43.5)
WALL_M = 4.5
#: Depth units of the synthetic camera (metres per unit), as a RealSense D400.
DEPTH_UNITS_M = 0.001
STAND = (-1.6, 2.6, 0.5, 1.2)  # lateral centre, distance, width, height (metres)


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A shopper is at ``distance_m`` and ``offset_m`` (left negative) at ``t`` seconds."""

    t: float
    distance_m: float
    offset_m: float = 0.0


@dataclass(frozen=True)
class SceneShopper:
    """A shopper: ``height_m`` tall, ``width_m`` wide, seen between the first and last
    waypoint (linear in between)."""

    path: tuple[Waypoint, ...]
    height_m: float = 1.75
    width_m: float = 0.45

    def at(self, t: float) -> tuple[float, float] | None:
        """(distance, offset) at ``t``, or None when not in the scene."""
        path = self.path
        if t < path[0].t or t > path[-1].t:
            return None
        for a, b in itertools.pairwise(path):
            if a.t <= t <= b.t:
                k = 0.0 if b.t == a.t else (t - a.t) / (b.t - a.t)
                return (
                    a.distance_m + k * (b.distance_m - a.distance_m),
                    a.offset_m + k * (b.offset_m - a.offset_m),
                )
        return path[-1].distance_m, path[-1].offset_m


@dataclass(frozen=True)
class Scene:
    """A named synthetic scene: shoppers, length and depth noise."""

    name: str
    description: str
    duration_s: float
    shoppers: tuple[SceneShopper, ...] = ()
    noisy: bool = False
    #: Frame times (seconds) at which a large, wrong, near region flashes for one frame.
    flashes: tuple[float, ...] = field(default=())

    def truth(self, t: float) -> tuple[float | None, int]:
        """The true nearest distance of a visible shopper (None for nobody) and how many
        shoppers are in view at ``t``."""
        seen = []
        for shopper in self.shoppers:
            where = shopper.at(t)
            if where is not None and _in_view(*where):
                seen.append(where[0])
        return (min(seen) if seen else None), len(seen)


def _walk(t0: float, start_m: float, stop_m: float, speed: float, offset: float = 0.0) -> Waypoint:
    return Waypoint(t0 + abs(start_m - stop_m) / speed, stop_m, offset)


def _approach_and_leave(
    arrive: float,
    stop_m: float,
    stay_s: float,
    *,
    speed: float = 1.2,
    offset: float = 0.0,
    start_m: float = WALL_M - 0.3,
) -> tuple[Waypoint, ...]:
    a = Waypoint(arrive, start_m, offset)
    b = _walk(a.t, start_m, stop_m, speed, offset)
    c = Waypoint(b.t + stay_s, stop_m, offset)
    d = _walk(c.t, stop_m, start_m, speed, offset)
    return (a, b, c, d)


def _scenes() -> dict[str, Scene]:
    one = _approach_and_leave(1.0, 0.7, 2.0)
    return {
        scene.name: scene
        for scene in (
            Scene("empty", "the empty shop floor", 3.0),
            Scene(
                "approach-leave",
                "one shopper walks up to the screen, stays 2 s and walks away",
                one[-1].t + 2.0,
                (SceneShopper(one),),
            ),
            Scene(
                "two-shoppers",
                "one shopper walks up; a second joins farther back; both leave",
                14.0,
                (
                    SceneShopper(_approach_and_leave(1.0, 0.8, 5.0, offset=-0.35)),
                    SceneShopper(_approach_and_leave(2.5, 1.5, 2.5, offset=0.6), height_m=1.65),
                ),
            ),
            Scene(
                "passer-by",
                "a shopper crosses the view at 3 m without stopping",
                7.5,
                (SceneShopper((Waypoint(1.0, 3.0, -3.0), Waypoint(6.0, 3.0, 3.0))),),
            ),
            Scene(
                "child",
                "a 1.1 m child walks up to the screen and leaves",
                one[-1].t + 2.0,
                (SceneShopper(_approach_and_leave(1.0, 0.8, 2.0), height_m=1.1, width_m=0.32),),
            ),
            Scene(
                "stays-at-end",
                "one shopper walks up to 0.7 m and still stands there when the recording ends "
                "(a camera lost while someone is at the screen)",
                one[1].t + 2.0,
                (SceneShopper((*one[:2], Waypoint(one[1].t + 2.0, 0.7))),),
            ),
            Scene(
                "noisy",
                "the approach-leave walk with depth holes, noise, spikes and one-frame flashes",
                one[-1].t + 2.0,
                (SceneShopper(one),),
                noisy=True,
                flashes=(0.7, 0.9),
            ),
        )
    }


SCENES: dict[str, Scene] = _scenes()
SCENE_NAMES: tuple[str, ...] = tuple(SCENES)


def _in_view(distance: float, offset: float) -> bool:
    return distance > 0.2 and abs(offset) < distance * math.tan(HALF_FOV_RAD)


class SceneRenderer:
    """Renders a :class:`Scene` as uint16 depth frames (``DEPTH_UNITS_M`` each)."""

    def __init__(self, scene: Scene, *, width: int, height: int, seed: int = 0) -> None:
        self.scene = scene
        self.width = width
        self.height = height
        self.focal = (width / 2) / math.tan(HALF_FOV_RAD)
        self._rng = np.random.default_rng(seed)
        self._empty = self._empty_room()

    def _empty_room(self) -> npt.NDArray[np.float32]:
        w, h, f = self.width, self.height, self.focal
        cy = h / 2
        room = np.full((h, w), WALL_M, dtype=np.float32)
        rows = np.arange(h, dtype=np.float32) + 0.5 - cy
        with np.errstate(divide="ignore"):
            floor = np.where(rows > 0, f * CAMERA_HEIGHT_M / np.maximum(rows, 1e-6), np.inf)
        room = np.minimum(room, floor[:, None].astype(np.float32))
        x, d, sw, sh = STAND
        self._paint_box(room, d, x, sw, sh)
        return room

    def _paint_box(
        self, image: npt.NDArray[np.float32], d: float, x: float, width: float, height: float
    ) -> None:
        f, cx, cy = self.focal, self.width / 2, self.height / 2
        left = round(cx + f * (x - width / 2) / d)
        right = round(cx + f * (x + width / 2) / d)
        top = round(cy + f * (CAMERA_HEIGHT_M - height) / d)
        bottom = round(cy + f * CAMERA_HEIGHT_M / d)
        r0, r1 = max(0, top), min(self.height, bottom)
        c0, c1 = max(0, left), min(self.width, right)
        if r0 < r1 and c0 < c1:
            region = image[r0:r1, c0:c1]
            np.minimum(region, np.float32(d), out=region)

    def _paint_person(
        self, image: npt.NDArray[np.float32], shopper: SceneShopper, d: float, x: float
    ) -> None:
        f, cx, cy = self.focal, self.width / 2, self.height / 2
        head = 0.23 * shopper.height_m / 1.75
        top = cy + f * (CAMERA_HEIGHT_M - shopper.height_m) / d
        bottom = cy + f * CAMERA_HEIGHT_M / d
        neck = top + f * head / d
        rows = np.arange(self.height, dtype=np.float32) + 0.5
        cols = np.arange(self.width, dtype=np.float32) + 0.5
        centre = cx + f * x / d
        half_body = f * shopper.width_m / 2 / d
        half_head = half_body * 0.42
        # Body: shoulders to feet, narrowing a little towards the feet.
        body_rows = (rows >= neck) & (rows < bottom)
        taper = 1.0 - 0.25 * np.clip((rows - neck) / max(1.0, bottom - neck), 0, 1)
        inside = body_rows[:, None] & (
            np.abs(cols[None, :] - centre) < (half_body * taper)[:, None]
        )
        # Head: an ellipse above the shoulders.
        head_cy = (top + neck) / 2
        head_ry = max(0.5, (neck - top) / 2)
        inside |= ((cols[None, :] - centre) / max(0.5, half_head)) ** 2 + (
            (rows[:, None] - head_cy) / head_ry
        ) ** 2 <= 1.0
        np.minimum(image, np.where(inside, np.float32(d), np.float32(np.inf)), out=image)

    def frame(self, t: float) -> npt.NDArray[np.uint16]:
        """The depth frame at ``t`` seconds."""
        image = self._empty.copy()
        # Farthest first, so nearer shoppers hide farther ones.
        placed = [(w, s) for s in self.scene.shoppers if (w := s.at(t)) is not None]
        for (d, x), shopper in sorted(placed, key=lambda item: -item[0][0]):
            self._paint_person(image, shopper, d, x)
        if self.scene.noisy:
            self._add_noise(image)
        if any(abs(t - flash) < 1e-3 for flash in self.scene.flashes):
            h, w = image.shape
            image[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3] = 0.9
        units = np.round(image / DEPTH_UNITS_M)
        return np.clip(units, 0, 65535).astype(np.uint16)

    def _add_noise(self, image: npt.NDArray[np.float32]) -> None:
        rng = self._rng
        # Stereo depth error grows with the square of distance (about 1% at 2 m).
        image += (rng.standard_normal(image.shape).astype(np.float32) * 0.0025) * image**2
        holes = rng.random(image.shape) < 0.15
        image[holes] = 0.0
        spikes = rng.random(image.shape) < 0.005
        image[spikes] = rng.uniform(0.3, 1.5, size=int(spikes.sum())).astype(np.float32)

    def frames(self, fps: float) -> Iterator[tuple[float, npt.NDArray[np.uint16]]]:
        """(t, frame) for every frame of the scene at ``fps``."""
        count = round(self.scene.duration_s * fps)
        for index in range(count):
            t = index / fps
            yield t, self.frame(t)


def scene_by_name(name: str) -> Scene:
    """The scene called ``name``; ValueError naming the known scenes otherwise."""
    try:
        return SCENES[name]
    except KeyError:
        raise ValueError(
            f"unknown scene {name!r}; known scenes: {', '.join(SCENE_NAMES)}"
        ) from None
