"""Presence from depth frames, in plain numpy (plus one OpenCV call for blobs).

The pipeline, per frame (see ``docs/sensors.md`` for the reasoning):

1. **Grid.** The depth frame is sampled on a coarse grid (about 106 columns: every 8th
   pixel of an 848x480 frame) and cut to the region of interest. A person covers thousands
   of grid cells at kiosk distances, so nothing is lost, and the step stays a small multiple
   of one pass over the ROI.
2. **Background.** The first ``LEARN_S`` seconds of frames are taken as the empty scene:
   the per-cell median, ignoring holes. Cells that were always holes (too far, black
   surfaces) get a far background, so anything seen there counts as closer. The background
   is re-learned slowly: a cell that stays still and closer than the background for
   ``relearn_s`` (a moved display stand) becomes background; a cell that becomes farther
   than its background (something left) is re-learned within about a second.
3. **Foreground** = valid depth closer than the background by ``margin_m``, in this frame
   *and* the previous one (a single-frame spike never counts; holes are never foreground).
4. **Blobs.** Connected foreground regions at least ``MIN_BLOB_SHARE`` of the ROI are
   people; each one's distance is the median depth of its cells; the nearest is reported.
   Blobs beyond the passing zone (plus the zone hysteresis) are nobody the kiosk cares about
   and are ignored.
   The foreground *share* is the blob area over the ROI area.

:class:`PresenceTracker` then turns those per-frame observations into states: hysteresis on
the share (on at ``on_share``, off below ``off_share``), dwell timers before turning on and
off, zones by the nearest distance with a small distance hysteresis, and a steady people
count.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sensors.state import EMPTY, Observation, PresenceState, Zone
from settings.model import ZonesSection

if TYPE_CHECKING:
    import cv2

log = logging.getLogger(__name__)

#: Seconds of frames taken as the empty scene when the sensor starts.
LEARN_S = 0.5
#: Target number of grid columns; the sampling stride follows from the frame width.
GRID_COLUMNS = 106
#: A blob must cover at least this share of the ROI to be a person.
MIN_BLOB_SHARE = 0.01
#: Background for cells that never had depth while learning (metres): anything is closer.
FAR_BACKGROUND_M = 100.0
#: A cell farther than its background is re-learned with this time constant (seconds).
UNCOVER_S = 1.0
#: Distance hysteresis between zones (metres): leaving a zone outward needs this much more.
ZONE_HYSTERESIS_M = 0.1
#: A new people count must hold this long before it is reported (seconds).
COUNT_DWELL_S = 0.3
#: Up to this many labels (background included) blob areas are counted label by label.
FEW_LABELS = 4
_EPS = 1e-6

FloatGrid = npt.NDArray[np.float32]
BoolGrid = npt.NDArray[np.bool_]


def grid_stride(width: int) -> int:
    """The sampling stride for frames ``width`` pixels wide."""
    return max(1, round(width / GRID_COLUMNS))


def roi_slices(roi: Sequence[float], rows: int, cols: int) -> tuple[slice, slice]:
    """Row and column slices of a ``rows`` x ``cols`` grid for ``roi`` = [left, top,
    right, bottom] in fractions of the frame (at least one cell each way)."""
    left, top, right, bottom = roi
    r0 = min(rows - 1, math.floor(top * rows))
    c0 = min(cols - 1, math.floor(left * cols))
    r1 = max(r0 + 1, math.ceil(bottom * rows))
    c1 = max(c0 + 1, math.ceil(right * cols))
    return slice(r0, r1), slice(c0, c1)


class DepthPresence:
    """Per-frame observation of people in depth frames (steps 1-4 of the module docstring).

    Not thread-safe: used by the sensor thread only. ``set_roi`` may be called between
    frames; the background is kept for the whole frame so a new ROI needs no re-learning.
    """

    def __init__(
        self,
        *,
        roi: Sequence[float],
        margin_m: float,
        relearn_s: float,
        max_range_m: float = FAR_BACKGROUND_M,
    ) -> None:
        self._roi = tuple(roi)
        #: Blobs farther than this are ignored (beyond the passing zone nobody counts).
        self.max_range_m = float(max_range_m)
        self._margin = float(margin_m)
        self._relearn_s = float(relearn_s)
        self._shape: tuple[int, int] | None = None
        self._stride = 1
        self._learning: list[FloatGrid] = []
        self._learn_start: float | None = None
        self._bg: FloatGrid | None = None
        self._prev_fg: BoolGrid | None = None
        self._prev_d: FloatGrid | None = None
        self._still: FloatGrid | None = None
        self._rows = slice(0, 1)
        self._cols = slice(0, 1)
        self._last_t: float | None = None

    @property
    def learned(self) -> bool:
        """True once the empty scene has been learned."""
        return self._bg is not None

    def set_roi(self, roi: Sequence[float]) -> None:
        """Use a new region of interest from the next frame on."""
        self._roi = tuple(roi)
        if self._bg is not None:
            self._rows, self._cols = roi_slices(self._roi, *self._bg.shape)
            assert self._prev_fg is not None
            self._prev_fg[...] = False

    def grid(self, depth: npt.NDArray[np.generic], scale: float) -> FloatGrid:
        """The whole frame on the sampling grid, in metres (0 = hole): the calibration
        preview. A new array."""
        stride = grid_stride(depth.shape[1])
        sampled = depth[::stride, ::stride]
        return _metres(sampled, scale)

    def observe(self, depth: npt.NDArray[np.generic], scale: float, t: float) -> Observation:
        """What the frame at time ``t`` (seconds) shows; ``depth`` is HxW integer units of
        ``scale`` metres, or float metres."""
        if self._shape != depth.shape:
            self._start_learning(depth.shape)
        stride = self._stride
        if self._bg is None:
            self._learn(_metres(depth[::stride, ::stride], scale), t)
            return EMPTY
        rows, cols = self._rows, self._cols
        # A strided view of the ROI: only the sampled cells are ever read.
        r0 = rows.start * stride
        c0 = cols.start * stride
        view = depth[r0 : rows.stop * stride : stride, c0 : cols.stop * stride : stride]
        d = _metres(view, scale)
        bg = self._bg[rows, cols]
        assert self._prev_fg is not None
        prev_fg = self._prev_fg[rows, cols]
        valid = d > 0
        fg = valid & (d < bg - self._margin)
        confirmed = fg & prev_fg
        prev_fg[...] = fg
        dt = 0.0 if self._last_t is None else min(1.0, max(0.0, t - self._last_t))
        self._last_t = t
        confirmed_cells = int(np.count_nonzero(confirmed))
        observation = self._blobs(confirmed, confirmed_cells, d)
        self._update_background(d, valid, confirmed, confirmed_cells, bg, dt, rows, cols)
        return observation

    def _start_learning(self, shape: tuple[int, ...]) -> None:
        self._shape = (int(shape[0]), int(shape[1]))
        self._stride = grid_stride(self._shape[1])
        self._learning = []
        self._learn_start = None
        self._bg = None
        self._last_t = None

    def _learn(self, grid: FloatGrid, t: float) -> None:
        if self._learn_start is None:
            self._learn_start = t
        self._learning.append(grid)
        if t - self._learn_start < LEARN_S - _EPS or len(self._learning) < 3:
            return
        stack = np.stack(self._learning)
        stack[stack <= 0] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-hole cells: handled below
            bg = np.nanmedian(stack, axis=0)
        bg = np.where(np.isnan(bg), FAR_BACKGROUND_M, bg).astype(np.float32)
        self._bg = bg
        self._prev_fg = np.zeros(bg.shape, dtype=bool)
        self._prev_d = np.zeros(bg.shape, dtype=np.float32)
        self._still = np.zeros(bg.shape, dtype=np.float32)
        self._rows, self._cols = roi_slices(self._roi, *bg.shape)
        self._learning = []
        self._last_t = t
        log.info(
            "background learned from %d frames (%dx%d grid, stride %d)",
            len(stack),
            bg.shape[1],
            bg.shape[0],
            self._stride,
        )

    def _blobs(self, confirmed: BoolGrid, confirmed_cells: int, d: FloatGrid) -> Observation:
        cells = confirmed.size
        min_area = max(4, int(MIN_BLOB_SHARE * cells))
        if confirmed_cells < min_area:
            return EMPTY
        # OpenCV loads with the first frame that has someone in it, not with the module: a
        # kiosk without a camera never pays for it (issue 17, boot time)
        import cv2

        # Labels only, areas counted here: connectedComponentsWithStats costs about three
        # times as much on a grid this small (benchmarks.presence).
        count, labels = cv2.connectedComponents(confirmed.view(np.uint8), connectivity=8)
        areas = _label_areas(labels, count)
        area_total = 0
        nearest: float | None = None
        people = 0
        for label in range(1, count):
            if areas[label] < min_area:
                continue
            distance = _median(d[labels == label])
            if distance > self.max_range_m:
                continue
            people += 1
            area_total += areas[label]
            if nearest is None or distance < nearest:
                nearest = distance
        if not people:
            return EMPTY
        return Observation(share=area_total / cells, nearest_m=nearest, people=people)

    def _update_background(
        self,
        d: FloatGrid,
        valid: BoolGrid,
        confirmed: BoolGrid,
        confirmed_cells: int,
        bg: FloatGrid,
        dt: float,
        rows: slice,
        cols: slice,
    ) -> None:
        if dt <= 0:
            return
        assert self._prev_d is not None and self._still is not None
        prev_d = self._prev_d[rows, cols]
        still = self._still[rows, cols]
        if confirmed_cells or self._relearn_s <= 0:
            self._absorb_still(d, confirmed, bg, dt, prev_d, still)
        else:
            still.fill(0.0)  # nothing in front: nothing stands still
        # Farther than the background: what the background held has gone; catch up quickly.
        uncovered = valid & (d > bg + self._margin)
        if uncovered.any():
            rate = min(1.0, dt / UNCOVER_S)
            bg[uncovered] += (d[uncovered] - bg[uncovered]) * rate
        prev_d[...] = d

    def _absorb_still(
        self,
        d: FloatGrid,
        confirmed: BoolGrid,
        bg: FloatGrid,
        dt: float,
        prev_d: FloatGrid,
        still: FloatGrid,
    ) -> None:
        """Something closer that does not move becomes background after relearn_s."""
        steady = confirmed & (np.abs(d - prev_d) < self._margin)
        still += dt
        still *= steady  # back to 0 where not steady (a multiply is cheaper than a mask)
        absorbed = still >= self._relearn_s
        if absorbed.any():
            bg[absorbed] = d[absorbed]
            still[absorbed] = 0.0
            log.info("background re-learned where something stood still for %gs", self._relearn_s)


def _label_areas(labels: cv2.typing.MatLike, count: int) -> list[int]:
    """The cells of each label ``0..count-1`` of a connected-components labelling. With
    few labels (a person or two) one compare and count per label is cheaper than
    ``np.bincount``, which copies the labels to 64-bit first (about 7 µs on the grid)."""
    if count <= FEW_LABELS:
        areas = [int(np.count_nonzero(labels == label)) for label in range(1, count)]
        return [labels.size - sum(areas), *areas]
    return [int(area) for area in np.bincount(labels.ravel(), minlength=count)]


def _median(values: FloatGrid) -> float:
    """``np.median`` of a non-empty 1-D array (the same value: the middle one, or the
    mean of the two middle ones), without ``np.median``'s generic-axis overhead, which was
    a fifth of the presence step (benchmarks.presence). Partitions ``values`` in place."""
    size = values.size
    middle = size // 2
    if size % 2:
        values.partition(middle)
        return float(values[middle])
    values.partition((middle - 1, middle))
    return float(values[middle - 1 : middle + 1].mean())


def _metres(depth: npt.NDArray[np.generic], scale: float) -> FloatGrid:
    if np.issubdtype(depth.dtype, np.floating):
        return np.nan_to_num(depth.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    out = depth.astype(np.float32)
    out *= np.float32(scale)
    return out


class PresenceTracker:
    """Observations -> :class:`PresenceState`: share hysteresis, on/off dwell timers, zones
    by nearest distance with hysteresis, and a people count that must hold before it shows.

    ``update`` takes frame times in seconds; all timers run on frame time, so a recording
    replayed faster than real time gives the same states at the same frame times.
    """

    def __init__(
        self,
        *,
        zones: ZonesSection,
        on_share: float,
        off_share: float,
        on_dwell_s: float,
        off_dwell_s: float,
    ) -> None:
        self.zones = zones
        self.on_share = on_share
        self.off_share = off_share
        self.on_dwell_s = on_dwell_s
        self.off_dwell_s = off_dwell_s
        self._present = False
        self._on_since: float | None = None
        self._off_since: float | None = None
        self._zone = Zone.AWAY
        self._distance: float | None = None
        self._people = 0
        self._count_candidate = 0
        self._count_since: float | None = None
        self._looking: bool | None = None
        self._looking_candidate: bool | None = None
        self._looking_since: float | None = None

    @property
    def present(self) -> bool:
        """True while someone is seen (after the on dwell, until the off dwell)."""
        return self._present

    def update(self, observation: Observation, t: float) -> PresenceState:
        """The state after the frame at time ``t`` showed ``observation``."""
        seen = observation.nearest_m is not None and observation.share > 0
        if not self._present:
            if seen and observation.share >= self.on_share:
                if self._on_since is None:
                    self._on_since = t
                if t - self._on_since >= self.on_dwell_s - _EPS:
                    self._present = True
                    self._off_since = None
            else:
                self._on_since = None
        elif not seen or observation.share < self.off_share:
            if self._off_since is None:
                self._off_since = t
            if t - self._off_since >= self.off_dwell_s - _EPS:
                self._present = False
                self._on_since = None
        else:
            self._off_since = None

        if self._present and seen:
            assert observation.nearest_m is not None
            self._distance = observation.nearest_m
            self._zone = self._zone_for(observation.nearest_m)
        elif not self._present:
            self._distance = None
            self._zone = Zone.AWAY

        if self._zone is Zone.AWAY:
            people = 0
            self._count_candidate = 0
            self._count_since = None
            self._people = 0
        else:
            people = self._steady_count(max(1, observation.people) if seen else self._people, t)
        looking = self._steady_looking(observation.looking if self._zone is not Zone.AWAY
                                       else (None if observation.looking is None else False),
                                       t)  # fmt: skip
        distance = None if self._zone is Zone.AWAY or self._distance is None else self._distance
        return PresenceState(
            zone=self._zone,
            distance_m=None if distance is None else round(distance, 2),
            people=people,
            looking=looking,
            timestamp=t,
        )

    def _zone_for(self, distance: float) -> Zone:
        closer = self._raw_zone(distance)
        if closer.rank > self._zone.rank or self._zone is Zone.AWAY:
            return closer
        farther = self._raw_zone(distance - ZONE_HYSTERESIS_M)
        if farther.rank < self._zone.rank:
            return farther
        return self._zone

    def _raw_zone(self, distance: float) -> Zone:
        if distance < self.zones.engaged_m:
            return Zone.ENGAGED
        if distance < self.zones.approaching_m:
            return Zone.APPROACHING
        if distance < self.zones.passing_m:
            return Zone.PASSING
        return Zone.AWAY

    def _steady_count(self, count: int, t: float) -> int:
        if self._people == 0:
            # The first count shows at once with the zone: the kiosk wakes on the zone.
            self._people = count
            self._count_candidate = count
            self._count_since = None
            return count
        if count == self._people:
            self._count_since = None
            return self._people
        if count != self._count_candidate or self._count_since is None:
            self._count_candidate = count
            self._count_since = t
        if t - self._count_since >= COUNT_DWELL_S - _EPS:
            self._people = count
            self._count_since = None
        return self._people

    def _steady_looking(self, looking: bool | None, t: float) -> bool | None:
        if looking is None or self._looking is None:
            self._looking = looking
            self._looking_candidate = looking
            self._looking_since = None
            return looking
        if looking == self._looking:
            self._looking_since = None
            return looking
        if looking != self._looking_candidate or self._looking_since is None:
            self._looking_candidate = looking
            self._looking_since = t
        if t - self._looking_since >= COUNT_DWELL_S - _EPS:
            self._looking = looking
            self._looking_since = None
        return self._looking
