"""What a shopper sees, in a real X window under Xvfb: the attract page and a product page
of a real experience, captured by the ``kiosk`` command itself."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from designer_import.model import Experience
from localservers import Xvfb, screenshot_kiosk
from tests.support.drawings import DEMO

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

#: The product page captured: the demo's when it exists, else the shop fixture's.
SHOP_PRODUCT = "p2"


@pytest.fixture
def kiosk_env(tmp_path: Path) -> dict[str, str]:
    if not Xvfb.available():
        pytest.fail("Xvfb is not installed (Debian package xvfb); run scripts/setup-system")
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["KIOSK_PATHS__DATA_DIR"] = str(tmp_path / "data")
    env["KIOSK_REDIS__ENABLED"] = "false"
    env["KIOSK_SENSORS__TYPE"] = "none"
    env["KIOSK_UPLINK__ENABLED"] = "false"
    return env


def demo_product_page() -> str | None:
    if not DEMO.exists():
        return None
    from designer_import import load_experience

    experience = load_experience(DEMO)
    for page in experience.pages:
        # a product page is about one product: exactly one sku on it
        skus = {e.properties["sku"] for e in page.elements if e.properties.get("sku")}
        if page.role == "page" and (page.properties.get("sku") or len(skus) == 1):
            return page.id
    return None


def rendered(experience: Experience, page_id: str) -> QImage:
    """The page as ``kiosk preview`` draws it on a 1920x1080 screen."""
    from kiosk.screen.render import PageScene, render_page

    page = experience.page(page_id)
    assert page is not None, page_id
    return render_page(PageScene(page), 1920, 1080)


def differing_share(shot: QImage, expected: QImage) -> float:
    """The share of sampled pixels whose colour differs by more than a little
    (antialiasing and the X server's colour depth aside)."""
    differing = total = 0
    for y in range(0, 1080, 7):
        for x in range(0, 1920, 7):
            a, b = shot.pixelColor(x, y), expected.pixelColor(x, y)
            total += 1
            differing += (
                max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue()))
                > 40
            )
    return differing / total


def capture(out: Path, experience: Path, env: dict[str, str], *extra: str) -> QImage:
    done = screenshot_kiosk(out, ["--experience", str(experience), *extra], delay_s=2.5, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1920, 1080)
    return image


def test_attract_and_product_page_screenshots(
    qapp: object, tmp_path: Path, kiosk_env: dict[str, str], shop_file: Path
) -> None:
    product = demo_product_page()
    experience = DEMO if product else shop_file
    product = product or SHOP_PRODUCT
    attract = capture(tmp_path / "attract.png", experience, kiosk_env)
    page = capture(tmp_path / "product.png", experience, kiosk_env, "--start-page", product)
    # fullscreen (frameless) fills the whole screen: no black desktop anywhere at the edges
    for image in (attract, page):
        for x, y in [(0, 0), (1919, 0), (0, 1079), (1919, 1079), (960, 0), (960, 1079)]:
            assert image.pixelColor(x, y).name() != "#000000" or experience == DEMO, (x, y)
    # two different pages, each more than a flat colour
    assert attract != page
    for image in (attract, page):
        colours = {image.pixel(x, y) for x in range(0, 1920, 17) for y in range(0, 1080, 13)}
        assert len(colours) > 3
    if experience == DEMO:
        # the demo's pages as the renderer draws them (kiosk preview), pixel for pixel
        from designer_import import load_experience

        demo = load_experience(DEMO)
        expected = {"attract": demo.attract_pages[0].id, "product": product}
        for image, page_id in ((attract, expected["attract"]), (page, expected["product"])):
            differing = differing_share(image, rendered(demo, page_id))
            assert differing < 0.02, f"{page_id}: {differing:.1%} of the screen differs"
    else:
        # the shop fixture at 1:1: a dark attract page with its button in the middle, and
        # the product page's round blue "Buy" button (its box corner stays white)
        assert attract.pixelColor(10, 10).name() == "#102030"
        assert attract.pixelColor(850, 500).name() == "#dae8fc"
        assert page.pixelColor(880, 560).name() == "#1ba1e2"
        assert page.pixelColor(805, 405).name() == "#ffffff"
    for name in ("attract.png", "product.png"):
        target = Path(os.environ.get("KIOSK_SCREENSHOT_DIR", tmp_path)) / name
        if target != tmp_path / name:
            target.parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).replace(target)
