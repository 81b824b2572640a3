"""notebooks/fleet.ipynb executed by nbclient in a real IPython kernel against a generated
lake: every figure drawn, and the printed figures are analytics.queries' answers."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
import numpy as np
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from PIL import Image

from analytics.lake_target import LocalLake
from analytics.queries import DashboardQueries, LakeSource
from tests.analytics.report_lake import DAY, STORE, generate_lake

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "fleet.ipynb"
#: One plot per figure: traffic, funnel, dwell, top products, pairs, rates.
FIGURES = 6
#: The colour the notebook draws its data in (#1f5f99).
DATA_COLOUR = (31, 95, 153)


def _has_colour(png_base64: str, colour: tuple[int, int, int]) -> bool:
    with Image.open(io.BytesIO(base64.b64decode(png_base64))) as image:
        pixels = np.asarray(image.convert("RGB"))
    return bool((pixels == colour).all(axis=-1).any())


def test_the_stored_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata["tags"]


def test_the_notebook_draws_every_figure_from_the_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = generate_lake(tmp_path)
    monkeypatch.setenv("KIOSK_LAKE", str(lake.root))
    monkeypatch.setenv("KIOSK_DATE", DAY)
    monkeypatch.setenv("KIOSK_STORE", STORE)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel on a Unix socket of the test's own, not a TCP port
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    client = NotebookClient(
        notebook, km=kernel, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute(cleanup_kc=True)  # shuts the kernel down (it is ours, not the client's)
    finally:
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=True)
    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    images = [
        output["data"]["image/png"] for output in outputs if "image/png" in output.get("data", {})
    ]
    assert len(images) == FIGURES
    # every figure has its data drawn (the notebook's data colour), not only empty axes
    assert all(_has_colour(image, DATA_COLOUR) for image in images)
    printed = "".join(output["text"] for output in outputs if output.get("name") == "stdout")
    queries = DashboardQueries(LakeSource(LocalLake(lake.root)))
    try:
        assert repr(queries.funnel(DAY, STORE)) in printed
        top = queries.top_products(DAY, STORE)
        assert "".join(f"{product!r}\n" for product in top) in printed
        fleet = sum(hour.events for hour in queries.traffic_by_hour(DAY))
        assert f"events {fleet} fleet; 1200 {STORE}" in printed
        triples = queries.triples(DAY, STORE, limit=10)
        assert (
            triples
            and "".join(
                f"{{{t.a}, {t.b}}} -> {t.c}: support {t.support:.3f}, "
                f"confidence {t.confidence:.2f}, lift {t.lift:.2f}\n"
                for t in triples
            )
            in printed
        )
        busiest = queries.product_rates(DAY, STORE, busiest=1)
        assert f"{len(busiest)} seconds with interactions {busiest[0].sku}" in printed
    finally:
        queries.close()
