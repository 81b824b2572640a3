"""The frame every benchmark runs in: the machine it ran on, five or more rounds, the median
and the spread, and the one JSON line it ends with.

A figure measured on a busy two-core kiosk PC is not the figure of a quiet workstation, and
one round says nothing about how much a figure moves. So every benchmark:

1. calls :func:`begin` first, which prints the core count and the load average (1, 5 and
   15 minutes) and returns them as a :class:`Machine` for the JSON line;
2. takes ``--rounds`` through :func:`add_rounds_argument` (at least :data:`MIN_ROUNDS`)
   and measures each round with :func:`measure_rounds` (or collects the rounds itself and
   wraps them in :class:`Rounds`), alternating its own code and its baseline within a round
   so both see the same load;
3. ends with :func:`report_rounds`: the value and the baseline are the medians of the rounds,
   ``ratio`` is the ratio of the medians, and the line carries the rounds' count, their
   spread (``(max - min) / median``) and the machine. A benchmark whose measurement is one
   long run (a soak, a chaos run) passes a plain number and says why in ``one_round``.

Usage::

    machine = begin("presence")
    step, limit = measure_rounds(measure_step_and_limit, args.rounds)
    report_rounds("presence", machine, step, "us/frame", "roi.min() over the same ROI", limit)
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.report import report

#: The fewest rounds a benchmark may report a median and a spread from.
MIN_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class Machine:
    """The machine a benchmark ran on: its logical cores and its load average (1, 5 and 15
    minutes, as ``os.getloadavg()`` gives them) when the benchmark started."""

    cores: int
    load_avg: tuple[float, float, float]

    @classmethod
    def now(cls) -> Machine:
        """This machine, now."""
        one, five, fifteen = os.getloadavg()
        return cls(cores=os.cpu_count() or 1, load_avg=(one, five, fifteen))

    def describe(self) -> str:
        """One line for a person: ``2 cores, load average 0.42 0.51 0.60 (1/5/15 min)``."""
        loads = " ".join(f"{load:.2f}" for load in self.load_avg)
        return f"{self.cores} cores, load average {loads} (1/5/15 min)"

    def json_fields(self) -> dict[str, object]:
        """The fields the JSON line carries: ``cores`` and ``load_avg``."""
        return {"cores": self.cores, "load_avg": [round(load, 2) for load in self.load_avg]}


@dataclass(frozen=True, slots=True)
class Rounds:
    """The values one measurement took in each round, in the order they were taken."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("Rounds needs at least one value")

    @property
    def median(self) -> float:
        """The median of the rounds: the figure a benchmark reports."""
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        """The smallest round."""
        return min(self.values)

    @property
    def high(self) -> float:
        """The largest round."""
        return max(self.values)

    @property
    def spread(self) -> float:
        """How far the rounds lie apart, as a share of the median: ``(max - min) / median``
        (0 when the median is 0)."""
        median = self.median
        return (self.high - self.low) / median if median else 0.0

    def describe(self, unit: str) -> str:
        """One line for a person: median, spread and range over the rounds."""
        return (
            f"median {self.median:.4g} {unit}, spread {self.spread * 100:.1f}% "
            f"({self.low:.4g}..{self.high:.4g}, {len(self.values)} rounds)"
        )

    def json_fields(self, prefix: str = "") -> dict[str, object]:
        """``rounds``, ``spread``, ``min`` and ``max`` (each name after ``prefix``)."""
        return {
            f"{prefix}rounds": len(self.values),
            f"{prefix}spread": round(self.spread, 4),
            f"{prefix}min": round(self.low, 6),
            f"{prefix}max": round(self.high, 6),
        }


def begin(name: str) -> Machine:
    """Print the benchmark's name with the machine's core count and load average; return
    them for the JSON line. Call it before anything is measured."""
    machine = Machine.now()
    print(f"benchmark {name} on {machine.describe()}", flush=True)
    return machine


def _round_count(text: str) -> int:
    rounds = int(text)
    if rounds < MIN_ROUNDS:
        raise argparse.ArgumentTypeError(
            f"at least {MIN_ROUNDS} rounds are needed for a median and a spread, not {rounds}"
        )
    return rounds


def add_rounds_argument(parser: argparse.ArgumentParser, default: int = MIN_ROUNDS) -> None:
    """Add ``--rounds N`` to ``parser``: N >= :data:`MIN_ROUNDS`, ``default`` when absent."""
    if default < MIN_ROUNDS:
        raise ValueError(f"the default number of rounds must be at least {MIN_ROUNDS}")
    parser.add_argument(
        "--rounds",
        type=_round_count,
        default=default,
        help=f"rounds to take the median and spread over (at least {MIN_ROUNDS}, default "
        f"{default})",
    )


def measure_rounds(measure: Callable[[], tuple[float, ...]], rounds: int) -> tuple[Rounds, ...]:
    """Call ``measure`` ``rounds`` times; each call returns one value per measurement (the
    code under test and its baseline, taken one after the other in the same round). Returns
    one :class:`Rounds` per measurement."""
    if rounds < MIN_ROUNDS:
        raise ValueError(f"at least {MIN_ROUNDS} rounds are needed, not {rounds}")
    taken = [measure() for _ in range(rounds)]
    widths = {len(values) for values in taken}
    if len(widths) != 1:
        raise ValueError(f"each round must give the same number of values, got {sorted(widths)}")
    return tuple(Rounds(tuple(column)) for column in zip(*taken, strict=True))


def report_rounds(
    name: str,
    machine: Machine,
    value: Rounds | float,
    unit: str,
    baseline: str,
    baseline_value: Rounds | float,
    **extra: object,
) -> dict[str, object]:
    """Print and return the JSON line ``{"benchmark", "value", "unit", "baseline", "ratio",
    "cores", "load_avg", "rounds", "spread", ...}``.

    ``value`` and ``baseline_value`` are :class:`Rounds` (their medians are reported, the
    ratio is the ratio of the medians) or, for a benchmark that is one long run, plain
    numbers together with ``one_round=`` (a field of ``extra``), the reason rounds make no
    sense there. A baseline
    measured in rounds adds ``baseline_spread``; when both are measured in the same rounds,
    ``ratio_spread`` is the spread of the per-round ratios.
    """
    fields: dict[str, object] = dict(machine.json_fields())
    if isinstance(value, Rounds):
        fields.update(value.json_fields())
        measured = value.median
    else:
        if not isinstance(extra.get("one_round"), str) or not extra["one_round"]:
            raise ValueError(f"{name}: a single value needs one_round saying why")
        fields["rounds"] = 1
        measured = value
    if isinstance(baseline_value, Rounds):
        fields["baseline_spread"] = round(baseline_value.spread, 4)
        reference = baseline_value.median
        if isinstance(value, Rounds) and len(value.values) == len(baseline_value.values):
            ratios = Rounds(
                tuple(
                    own / base if base else float("inf")
                    for own, base in zip(value.values, baseline_value.values, strict=True)
                )
            )
            fields["ratio_spread"] = round(ratios.spread, 4)
    else:
        reference = baseline_value
    fields.update(extra)
    return report(name, measured, unit, baseline, reference, **fields)
