"""kiosk-report on a generated lake: its figures are the queries' figures, the day is compared
with the previous four same weekdays that have data, a day without data says so, the kiosks'
health shows silent and rebooted kiosks, and a bad request is one clear line."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.lake_target import LocalLake
from analytics.queries import DashboardQueries, LakeSource, SQLiteSource
from analytics.report import main
from analytics.report_figures import day_report
from analytics.report_health import kiosk_health
from tests.analytics.conftest import BUCKET, batch_bytes, land, s3_client
from tests.analytics.report_lake import DAY, STORE, GeneratedLake, generate_lake
from tests.support.uplink import make_events

MONDAY = dt.date.fromisoformat(DAY)
#: The Mondays before DAY that have data (2026-11-02 has none), nearest first.
COMPARED = ["2026-11-16", "2026-11-09", "2026-10-26"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> GeneratedLake:
    return generate_lake(tmp_path_factory.mktemp("report-lake"))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    status = main(list(args))
    return status, capsys.readouterr().err.splitlines()


def test_the_figures_are_the_queries_figures(lake: GeneratedLake) -> None:
    report = day_report(LakeSource(LocalLake(lake.root)), MONDAY, STORE)
    queries = DashboardQueries(LakeSource(LocalLake(lake.root)))
    try:
        assert report.day.funnel == queries.funnel(DAY, STORE)
        traffic = queries.traffic_by_hour(DAY, STORE)
        assert report.day.sessions_by_hour == tuple(hour.sessions for hour in traffic)
        assert report.day.events == sum(hour.events for hour in traffic) == 1200
        assert list(report.top) == queries.top_products(DAY, STORE)[:10]
        every = {pair.a + pair.b: pair for pair in queries.pairs(DAY, STORE, limit=40)}
        assert report.pairs and all(every[p.a + p.b] == p for p in report.pairs)
        usual = [queries.funnel(date, STORE).shoppers for date in COMPARED]
    finally:
        queries.close()
    assert report.usual("shoppers") == pytest.approx(sum(usual) / 3)


def test_the_page_shows_the_day_against_the_previous_mondays(
    lake: GeneratedLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    status, err = run(
        capsys, "--date", DAY, "--store", STORE, "--lake", str(lake.root), "-o", str(out)
    )
    assert (status, err) == (0, [f"kiosk-report: {out}"])
    page = out.read_text()
    queries = DashboardQueries(LakeSource(LocalLake(lake.root)))
    try:
        today = queries.funnel(DAY, STORE).shoppers
        usual = sum(queries.funnel(date, STORE).shoppers for date in COMPARED) / 3
        sunday = queries.funnel("2026-11-22", STORE).shoppers
    finally:
        queries.close()
    assert sunday > 0  # the busier Sunday before is in the lake, and not compared with
    assert f"the previous four Mondays that have data ({', '.join(COMPARED)})" in page
    change = f"{100 * (today - usual) / usual:+.0f}%"
    row = f"<td>shoppers (sessions)</td><td>{today}</td><td>{usual:,.1f}</td><td>{change}</td>"
    assert row.replace(".0<", "<") in page
    assert page.count("<img ") == 6  # one plot per section
    assert "No events for store" not in page


def test_the_same_report_from_sqlite_and_from_the_lake(lake: GeneratedLake) -> None:
    from_lake = day_report(LakeSource(LocalLake(lake.root)), MONDAY, STORE)
    assert day_report(SQLiteSource(lake.sqlite), MONDAY, STORE) == from_lake


def test_a_day_without_data_says_so(
    lake: GeneratedLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "empty.html"
    args = ["--date", "2026-11-30", "--store", STORE, "--sqlite", str(lake.sqlite), "-o", str(out)]
    status, err = run(capsys, *args)
    assert (status, err) == (0, [f"kiosk-report: {out} (no events that day)"])
    page = out.read_text()
    assert "No events for store store-000 on 2026-11-30" in page
    assert "Top products" not in page and "<td>shoppers" not in page
    # the kiosks known from the Mondays before are listed as silent
    assert page.count("no event</td>") == 3
    assert "No event at all from kiosk-00, kiosk-01, kiosk-02" in page


def test_a_silent_kiosk_is_named(lake: GeneratedLake) -> None:
    report = day_report(LakeSource(LocalLake(lake.root)), MONDAY, STORE)
    assert [(k.kiosk_id, k.events) for k in report.kiosks] == [
        ("kiosk-00", 600),
        ("kiosk-01", 600),
        ("kiosk-02", 0),
    ]


def test_health_counts_reboots_and_camera_losses(tmp_path: Path) -> None:
    events = make_events(30, store_id="store-9", kiosk_id="kiosk-01")
    for index, event in enumerate(events):
        # the machine rebooted after the tenth and after the twentieth event
        event["mono_ns"] = 5_000_000_000 + 1_000_000 * (index % 10)
    events[12] = {**events[12], "type": "session.end", "payload": {"reason": "camera lost"}}
    events[13] = {**events[13], "type": "session.end", "payload": {"reason": "camera lost"}}
    events[14] = {**events[14], "type": "session.end", "payload": {"reason": "idle"}}
    events[15] = {**events[15], "type": "presence.change", "payload": {"zone": "away"}}
    db = tmp_path / "received.sqlite"
    land(db, [batch_bytes(events, "one")])
    [health] = kiosk_health(SQLiteSource(db), events[0]["ts"][:10], "store-9")
    assert (health.events, health.reboots, health.camera_lost_sessions) == (30, 2, 2)
    assert health.presence_changes == 1
    assert (
        health.first_event is not None
        and health.first_event.isoformat()[:19] == events[0]["ts"][:19]
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--date", "2026-13-01"], "kiosk-report: --date '2026-13-01': not a calendar day"),
        (["--date", "23/11/2026"], "kiosk-report: --date '23/11/2026': not a calendar day"),
        (["--date", "2026-11-3"], "kiosk-report: --date '2026-11-3': not a calendar day"),
        (["--store", "a/b"], "kiosk-report: --store 'a/b': not a store id"),
        (["--store", ""], "kiosk-report: --store '': not a store id"),
    ],
)
def test_a_bad_date_or_store_is_one_line(
    lake: GeneratedLake,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    line: str,
) -> None:
    request = {"--date": DAY, "--store": STORE}
    request.update(dict(zip(args[::2], args[1::2], strict=True)))
    out = tmp_path / "report.html"
    flat = [item for pair in request.items() for item in pair]
    status, err = run(capsys, *flat, "--lake", str(lake.root), "-o", str(out))
    assert status == 2
    assert len(err) == 1 and err[0].startswith(line)
    assert not out.exists()


def test_a_missing_lake_or_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--date", DAY, "--store", STORE, "-o", str(tmp_path / "r.html")]
    assert run(capsys, *base, "--lake", str(tmp_path / "none")) == (
        2,
        [f"kiosk-report: --lake {tmp_path / 'none'}: no such folder"],
    )
    assert run(capsys, *base, "--sqlite", str(tmp_path / "none.sqlite")) == (
        2,
        [f"kiosk-report: --sqlite {tmp_path / 'none.sqlite'}: no such file"],
    )


def test_the_pdf_prints_the_page(
    lake: GeneratedLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.pdf"
    args = ["--date", DAY, "--store", STORE, "--lake", str(lake.root), "--format", "pdf"]
    status, err = run(capsys, *args, "-o", str(out))
    assert (status, err) == (0, [f"kiosk-report: {out}"])
    assert out.read_bytes().startswith(b"%PDF")
    text = _pdf_text(out)
    assert "Store store-000: Monday 2026-11-23 (UTC)" in text
    assert "No event at all from kiosk-02" in text
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(out), str(tmp_path / "page")], check=True, timeout=60
    )
    assert sorted(path.name for path in tmp_path.glob("page-*.png"))[0] == "page-1.png"


def _pdf_text(pdf: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, timeout=60
    )
    return re.sub(r"\s+", " ", done.stdout.decode())


def test_the_same_page_from_an_s3_lake(
    lake: GeneratedLake, moto_s3: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = s3_client(moto_s3)
    for path in sorted(lake.root.rglob("*.parquet")):
        key = f"shop/{path.relative_to(lake.root)}"
        client.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
    request = ["--date", DAY, "--store", STORE]
    local, remote = tmp_path / "local.html", tmp_path / "s3.html"
    assert run(capsys, *request, "--lake", str(lake.root), "-o", str(local))[0] == 0
    s3 = ["--lake", f"s3://{BUCKET}/shop", "--lake-endpoint", moto_s3]
    assert run(capsys, *request, *s3, "-o", str(remote)) == (0, [f"kiosk-report: {remote}"])
    assert remote.read_text() == local.read_text()


def test_a_corrupt_lake_file_is_one_line(
    lake: GeneratedLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "lake"
    shutil.copytree(lake.root, root)
    [part, *_] = sorted(root.glob(f"events/date={DAY}/store={STORE}/*.parquet"))
    part.write_bytes(b"not parquet at all" * 100)
    out = tmp_path / "report.html"
    status, err = run(capsys, "--date", DAY, "--store", STORE, "--lake", str(root), "-o", str(out))
    assert status == 1
    assert len(err) == 1 and err[0].startswith("kiosk-report: ") and part.name in err[0]
    assert not out.exists()


def test_a_day_without_previous_weekdays_says_there_is_nothing_to_compare(
    lake: GeneratedLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "first.html"
    # the first Monday in the lake: the four before it have no data
    args = ["--date", "2026-10-26", "--store", STORE, "--lake", str(lake.root), "-o", str(out)]
    assert run(capsys, *args) == (0, [f"kiosk-report: {out}"])
    page = out.read_text()
    before = "2026-10-19, 2026-10-12, 2026-10-05, 2026-09-28"
    assert f"No previous Monday has data to compare with ({before})." in page
    assert "no previous Monday to compare with; the busiest hour" in page
    assert "<td>shoppers (sessions)</td><td>" in page and "<td>n/a</td><td>n/a</td>" in page
    assert "No previous Monday has data, so nothing can be said to rise." in page


def test_the_installed_command_answers_a_bad_date_in_one_line(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "kiosk-report"
    args = ["--date", "yesterday", "--store", STORE, "--lake", str(tmp_path), "-o", "r.html"]
    done = subprocess.run([command, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "kiosk-report: --date 'yesterday': not a calendar day as YYYY-MM-DD (e.g. 2026-11-23)"
    ]
