"""The list to take home on paper: a slip from an ESC/POS receipt printer (python-escpos).

``[take_home] printer`` names the printer's device file (``/dev/usb/lp0`` for a USB printer
the kernel's ``usblp`` driver serves; any file for a test), ``printer_profile`` its model as
python-escpos names it (for the paper's width). The slip carries the list's products and the
QR code of its link as a raster picture (``GS v 0``), which every ESC/POS printer prints.
The slip is built in memory, then written to the device in one go: :func:`print_list` runs
on a worker of the task runner, as the write may block.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.models.take_home import ListItem

#: The slip's words.
TITLE = "My list"
SCAN = "Scan to open your list on your phone"
#: Printer dots per QR module (1-16).
QR_DOTS = 6


class PrintFailed(RuntimeError):
    """The slip could not be printed; ``str()`` says why, in one line, naming the device."""


def slip_bytes(items: list[ListItem], url: str, *, store: str, profile: str) -> bytes:
    """The ESC/POS bytes of the slip: title, store, products, the QR code of ``url``.
    Raises :class:`PrintFailed` when python-escpos is missing or ``profile`` is unknown."""
    try:
        from escpos.capabilities import CAPABILITIES
        from escpos.printer import Dummy
    except ImportError as exc:
        raise PrintFailed(
            f"python-escpos is not installed ({exc}): pip install 'retail-edge-kiosk[printer]'"
        ) from None
    if profile not in CAPABILITIES["profiles"]:
        raise PrintFailed(
            f"[take_home] printer_profile = {profile!r} is not a printer model python-escpos "
            "knows (python-escpos's capabilities.json lists them, e.g. TM-T20II, TM-T88V)"
        )
    slip = Dummy(profile=profile)
    slip.set(align="center", bold=True, double_height=True, double_width=True)
    slip.textln(TITLE)
    slip.set(normal_textsize=True, bold=False)
    slip.textln(store)
    slip.set(align="left")
    slip.ln()
    for item in items:
        slip.textln(f"- {item.name} ({item.sku})" if item.name != item.sku else f"- {item.sku}")
    slip.ln()
    slip.set(align="center")
    slip.qr(url, size=QR_DOTS, center=True)
    slip.textln(SCAN)
    slip.cut()
    return bytes(slip.output)


def print_list(device: Path, items: list[ListItem], url: str, *, store: str, profile: str) -> None:
    """Print ``items`` and the QR code of ``url`` on the printer at ``device``. Raises
    :class:`PrintFailed` (python-escpos missing, an unknown profile, the device absent, full
    or refusing the write)."""
    data = slip_bytes(items, url, store=store, profile=profile)
    try:
        with device.open("wb") as printer:  # buffered: a short write is carried on
            printer.write(data)
            printer.flush()
    except OSError as exc:
        raise PrintFailed(f"printer {device}: {exc.strerror or exc}") from exc
