"""The size of product code's functions: each one fits on a screen (issue 20's cap).

ruff caps branches (C901) and statements (PLR0915); this caps the length in lines, docstring
included, of every function and method in the packages that ship in the wheel.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# every top-level package the wheel ships (pyproject's list), so a new package is held to it too
PRODUCT_PACKAGES = sorted(
    {
        name.split(".")[0]
        for name in tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
            "setuptools"
        ]["packages"]
    }
    - {"kiosk_resources"}
)
MAX_FUNCTION_LINES = 60


def function_lengths() -> list[tuple[int, str]]:
    """Every function in product code as (lines, "path:line name"), longest first."""
    found: list[tuple[int, str]] = []
    for package in PRODUCT_PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    assert node.end_lineno is not None
                    where = f"{path.relative_to(REPO)}:{node.lineno} {node.name}"
                    found.append((node.end_lineno - first + 1, where))
    return sorted(found, reverse=True)


def test_the_scan_sees_the_product_code() -> None:
    lengths = function_lengths()
    # The product has well over a thousand functions; a scan that finds few looked elsewhere.
    assert len(lengths) > 1000
    assert any(where.startswith("kiosk/app.py:") for _, where in lengths)


def test_no_product_function_is_longer_than_the_cap() -> None:
    too_long = [f"{lines} lines: {where}" for lines, where in function_lengths()
                if lines >= MAX_FUNCTION_LINES]  # fmt: skip
    assert not too_long, "functions of 60 lines or more:\n" + "\n".join(too_long)
