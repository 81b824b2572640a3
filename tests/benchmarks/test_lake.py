"""benchmarks.lake on a small fleet: it lands, copies, queries and ends with its JSON line."""

from __future__ import annotations

import json

import pytest

from benchmarks.lake import main


def test_a_small_run_ends_with_the_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--kiosks", "10", "--events", "3000", "--file-rows", "1000"]) == 0
    out = capsys.readouterr().out
    line = json.loads(out.strip().splitlines()[-1])
    assert (line["benchmark"], line["unit"], line["rounds"]) == ("lake", "events/s", 5)
    assert line["baseline"].startswith("pyarrow writing the same rows in one call")
    assert (line["events"], line["kiosks"], line["stores"]) == (3000, 10, 2)
    # 3000 events in flushes of 1000 rows, each cut by store: at least 3 files
    assert line["files"] >= 3 and line["value"] > 0 and line["ratio"] > 0
    assert set(line["queries"]) == {
        "traffic_by_hour", "funnel", "dwell", "top_products", "pairs", "triples", "product_rates",
    }  # fmt: skip
    assert all(q["ms"] > 0 and q["scan_ms"] > 0 for q in line["queries"].values())
    assert "landed 3,000 events of 10 kiosks" in out
