"""The one JSON line every benchmark ends with (benchmarks.harness adds the machine, the
rounds and their spread to it)."""

from __future__ import annotations

import json


def report(
    name: str, value: float, unit: str, baseline: str, baseline_value: float, **extra: object
) -> dict[str, object]:
    """Print and return ``{"benchmark", "value", "unit", "baseline", "ratio", ...}``.

    ``baseline`` names the physical limit measured in the same run; ``ratio`` is
    ``value / baseline_value``.
    """
    ratio = value / baseline_value if baseline_value else float("inf")
    line = {
        "benchmark": name,
        "value": round(value, 6),
        "unit": unit,
        "baseline": baseline,
        "ratio": round(ratio, 4),
        **extra,
    }
    print(json.dumps(line), flush=True)
    return line
