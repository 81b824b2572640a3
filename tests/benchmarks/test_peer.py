"""benchmarks.peer's machinery, once and for real on a tiny scale (no timing is asserted): the
kiosk's and Chromium's first-paint detectors both fire, a link touch reaches its page in both,
Chromium's net log shows nothing beyond loopback, and the PSS of a process tree counts its
children."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.peer import (
    DEMO,
    Step,
    link_walk,
    measure,
    smaps_rollup_kb,
    stage,
    tree_memory,
)
from benchmarks.peer_chromium import DEFAULT_CACHE, cached_viewer, read_net_log
from designer_import import load_experience
from localservers import Xvfb

#: What the child of the tree test allocates and touches (private to it).
CHILD_MB = 64

#: The child: touches CHILD_MB of its own memory, says so, waits for its stdin to close.
CHILD = (
    f"import sys; b = bytearray({CHILD_MB} * 1024 * 1024); print('touched', flush=True); "
    "sys.stdin.read()"
)
#: The parent: starts the child, passes on its pid and its word, waits for its stdin to close.
PARENT = f"""
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", {CHILD!r}], stdout=subprocess.PIPE,
                         stdin=subprocess.PIPE, text=True)
print(child.pid, child.stdout.readline().strip(), flush=True)
sys.stdin.read()
child.stdin.close()
child.wait()
"""


def test_tree_memory_counts_a_child() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        child_pid, said = parent.stdout.readline().split()
        assert said == "touched"
        tree = tree_memory(parent.pid)
        parent_alone = smaps_rollup_kb(parent.pid)["Pss"]
    finally:
        assert parent.stdin is not None
        parent.stdin.close()
        parent.wait(timeout=30)
    assert set(tree.pids) == {parent.pid, int(child_pid)}
    assert parent_alone < CHILD_MB * 1024
    assert tree.pss_kb >= parent_alone + CHILD_MB * 1024
    assert tree.uss_kb >= CHILD_MB * 1024


def test_walk_follows_links_and_comes_back_from_pages_without_links() -> None:
    experience = load_experience(DEMO)
    walk = link_walk(experience, "attract-friends", "welcome", 6)
    assert [step.target for step in walk if step.timed][:3] == [
        "welcome",
        "category-dogs",
        "product-dog-101",
    ]
    assert Step("product-dog-101", "", "welcome") in walk
    assert sum(step.timed for step in walk) == 6
    pages = {page.id for page in experience.pages}
    assert all(step.page in pages and step.target in pages for step in walk)


@pytest.mark.xvfb
@pytest.mark.slow
def test_both_first_paint_detectors_fire_and_a_link_switches(tmp_path: Path) -> None:
    for tool, package in (("chromium", "chromium"), ("npm", "npm")):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (Debian package {package}; scripts/setup-system)")
    if not Xvfb.available():
        pytest.fail("Xvfb is not installed (Debian package xvfb); run scripts/setup-system")
    # tests talk to loopback only: scripts/test fetches the viewer before them
    if not cached_viewer(DEFAULT_CACHE).is_file():
        pytest.fail(f"{cached_viewer(DEFAULT_CACHE)} is missing: scripts/test fetches it (npm)")
    walk = [Step("attract-friends", "attract-friends-start", "welcome")]
    with stage(tmp_path, DEFAULT_CACHE, 0) as where:
        net_log = tmp_path / "netlog.json"
        chromium = measure(lambda: where.viewer(net_log), walk, 0.5, 0.0)
        kiosk = measure(where.kiosk, walk, 0.5, 0.0)
    for measured in (chromium, kiosk):
        assert measured.start_s > 0
        assert len(measured.switches_ms) == 1 and measured.switches_ms[0] > 0
        assert measured.memory.pss_kb > 0
    assert len(chromium.memory.pids) > 1  # the browser's renderer, GPU and utility children
    found = read_net_log(net_log)
    assert found.beyond_loopback == ()
    assert found.page_requests == ()
