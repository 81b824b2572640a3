"""benchmarks.harness: the machine line, the rounds' median and spread, the JSON line."""

from __future__ import annotations

import argparse
import json
import os

import pytest

from benchmarks.harness import (
    MIN_ROUNDS,
    Rounds,
    add_rounds_argument,
    begin,
    measure_rounds,
    report_rounds,
)


def test_begin_prints_cores_and_load(capsys: pytest.CaptureFixture[str]) -> None:
    machine = begin("demo")
    out = capsys.readouterr().out
    assert machine.cores == os.cpu_count()
    assert len(machine.load_avg) == 3
    assert out.startswith("benchmark demo on ")
    assert f"{machine.cores} cores, load average " in out


def test_rounds_median_and_spread() -> None:
    rounds = Rounds((10.0, 12.0, 11.0, 9.0, 30.0))
    assert rounds.median == 11.0
    assert rounds.spread == pytest.approx((30.0 - 9.0) / 11.0)
    assert rounds.json_fields("x_") == {
        "x_rounds": 5,
        "x_spread": 1.9091,
        "x_min": 9.0,
        "x_max": 30.0,
    }
    with pytest.raises(ValueError, match="at least one value"):
        Rounds(())


def test_measure_rounds_alternates_and_splits_columns() -> None:
    calls: list[int] = []

    def measure() -> tuple[float, float]:
        calls.append(len(calls))
        return float(len(calls)), 10.0 * len(calls)

    own, base = measure_rounds(measure, MIN_ROUNDS)
    assert own.values == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert base.values == (10.0, 20.0, 30.0, 40.0, 50.0)
    with pytest.raises(ValueError, match="at least 5 rounds"):
        measure_rounds(measure, MIN_ROUNDS - 1)


def test_rounds_argument_refuses_fewer_than_five() -> None:
    parser = argparse.ArgumentParser()
    add_rounds_argument(parser, default=7)
    assert parser.parse_args([]).rounds == 7
    assert parser.parse_args(["--rounds", "5"]).rounds == 5
    with pytest.raises(SystemExit):
        parser.parse_args(["--rounds", "3"])


def test_report_rounds_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    machine = begin("demo")
    own = Rounds((2.0, 4.0, 3.0, 3.0, 3.0))
    base = Rounds((1.0, 2.0, 1.5, 1.5, 1.0))
    line = report_rounds("demo", machine, own, "us", "the limit", base, pixels=42)
    printed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert printed == line
    assert printed["value"] == 3.0 and printed["ratio"] == 2.0
    assert printed["rounds"] == 5 and printed["spread"] == pytest.approx(2 / 3, abs=1e-4)
    assert printed["baseline_spread"] == pytest.approx(1 / 1.5, abs=1e-4)
    assert printed["ratio_spread"] == pytest.approx((3.0 - 2.0) / 2.0)
    assert printed["cores"] == machine.cores and len(printed["load_avg"]) == 3
    assert printed["pixels"] == 42


def test_report_one_round_must_say_why() -> None:
    machine = begin("soak")
    with pytest.raises(ValueError, match="one_round"):
        report_rounds("soak", machine, 1.0, "ms", "budget", 2.0)
    line = report_rounds("soak", machine, 1.0, "ms", "budget", 2.0, one_round="one 30 s run")
    assert line["rounds"] == 1 and line["one_round"] == "one 30 s run"
