"""The admin page registry: side-bar order, who sees what, and clear errors."""

from __future__ import annotations

import pytest

from kiosk.admin.registry import EVERY_ROLE, MANAGER_ONLY, AdminPage, PageRegistry


def _never_built() -> AdminPage:
    raise AssertionError("the registry builds no page itself")


def test_pages_come_in_registration_order_for_the_roles_that_see_them() -> None:
    registry = PageRegistry()
    registry.register("status", title="Status", roles=EVERY_ROLE, build=_never_built)
    registry.register("content", title="Content", roles=MANAGER_ONLY, build=_never_built)
    registry.register("dashboards", title="Dashboards", roles=EVERY_ROLE, build=_never_built)
    assert registry.names_for("staff") == ["status", "dashboards"]
    assert registry.names_for("manager") == ["status", "content", "dashboards"]
    assert registry.entry("content").title == "Content"
    assert "content" in registry and "kiosk" not in registry
    assert [entry.name for entry in registry] == ["status", "content", "dashboards"]
    assert len(registry) == 3


def test_a_page_registered_twice_or_for_nobody_is_refused_by_name() -> None:
    registry = PageRegistry()
    registry.register("status", title="Status", roles=EVERY_ROLE, build=_never_built)
    with pytest.raises(ValueError, match="'status' is registered twice"):
        registry.register("status", title="Status", roles=EVERY_ROLE, build=_never_built)
    with pytest.raises(ValueError, match="'hidden': no role may see it"):
        registry.register("hidden", title="Hidden", roles=(), build=_never_built)
    with pytest.raises(KeyError, match=r"no admin page 'kiosk' \(registered: status\)"):
        registry.entry("kiosk")


def test_the_panel_imports_pyqtgraph_only_for_a_page_that_draws_with_it() -> None:
    """Installing the panel happens at the kiosk's start: pyqtgraph waits until staff open
    Dashboards or Calibration (issue 22: start time)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import kiosk.admin.controller, kiosk.admin.pages, kiosk.admin.status\n"
        "import kiosk.admin.content, kiosk.admin.kiosk_page\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyqtgraph'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
