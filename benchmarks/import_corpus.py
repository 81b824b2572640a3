"""Load + validate the whole draw.io corpus, against bare inflate + lxml parse of the same files.

The baseline is the least any importer must do: read each file, base64-decode and inflate each
compressed page, URI-decode it and let lxml parse the XML. The importer then resolves styles,
geometry, labels, images and links and runs the validator. Both run in the same process, on
the same files, one after the other in each round (so both see the same load), after one
warm-up pass of each (imports, caches). The figures are the medians of the rounds
(``benchmarks.harness``). Goal: ratio <= 2.

``python -m benchmarks.import_corpus [--rounds N] [--corpus DIR]``
"""

from __future__ import annotations

import argparse
import base64
import time
import zlib
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from benchmarks.harness import add_rounds_argument, begin, measure_rounds, report_rounds
from designer_import import load_experience, validate

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "drawio"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def bare_parse(data: bytes) -> int:
    """Inflate and parse every page of one file with lxml; returns the number of pages."""
    parser = _parser()
    root = etree.fromstring(data, parser)
    if root.tag.endswith("svg"):
        root = etree.fromstring(root.get("content", "").encode("utf-8"), parser)
    pages = 0
    for diagram in root.iter("diagram"):
        pages += 1
        if diagram.find("mxGraphModel") is None and (diagram.text or "").strip():
            raw = zlib.decompress(base64.b64decode(diagram.text or ""), -15)
            etree.fromstring(unquote(raw.decode("utf-8")).encode("utf-8"), parser)
    return pages or 1


def run_baseline(files: list[tuple[Path, bytes]]) -> tuple[float, float]:
    """Wall and CPU seconds for one bare pass over the corpus (bytes already read once, like
    the OS cache)."""
    start, cpu = time.perf_counter(), time.process_time()
    for path, _data in files:
        bare_parse(path.read_bytes())
    return time.perf_counter() - start, time.process_time() - cpu


def run_importer(files: list[tuple[Path, bytes]]) -> tuple[float, float, int, int, int]:
    """Wall and CPU seconds for load_experience + validate of every file; pages, elements,
    findings."""
    pages = elements = findings = 0
    start, cpu = time.perf_counter(), time.process_time()
    for path, _data in files:
        experience = load_experience(path)
        findings += len(validate(experience))
        pages += len(experience.pages)
        elements += sum(len(page.elements) for page in experience.pages)
    return time.perf_counter() - start, time.process_time() - cpu, pages, elements, findings


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures and JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_corpus")
    add_rounds_argument(parser, default=7)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    machine = begin("import_corpus")
    paths = sorted(p for p in args.corpus.iterdir() if p.is_file())
    files = [(p, p.read_bytes()) for p in paths]
    total_bytes = sum(len(d) for _p, d in files)
    counts = [0, 0, 0]

    def one_round() -> tuple[float, float, float, float]:
        base, base_cpu = run_baseline(files)
        seconds, cpu, pages, elements, findings = run_importer(files)
        counts[:] = [pages, elements, findings]
        return seconds, base, cpu, base_cpu

    # Warm both paths once (imports, caches) before the clock.
    run_baseline(files)
    run_importer(files)
    ours, base, ours_cpu, base_cpu = measure_rounds(one_round, args.rounds)
    pages, elements, findings = counts
    print(f"corpus: {len(files)} files, {total_bytes / 1e6:.2f} MB, {pages} pages, "
          f"{elements} elements, {findings} findings")  # fmt: skip
    print(f"bare inflate + lxml parse: {base.describe('s')}")
    print(f"load_experience + validate: {ours.describe('s')}")
    print(f"per file: {ours.median / len(files) * 1000:.2f} ms; "
          f"ratio {ours.median / base.median:.2f} (goal <= 2)")  # fmt: skip
    # Wall time swings with what else the cores run (other processes take turns on them);
    # the CPU seconds this process spent are the steadier figure under load.
    cpu_ratio = ours_cpu.median / base_cpu.median
    print(f"CPU: importer {ours_cpu.describe('s')}; bare {base_cpu.describe('s')}; "
          f"ratio {cpu_ratio:.2f}")  # fmt: skip
    report_rounds(
        "import_corpus",
        machine,
        ours,
        "s",
        "bare inflate + lxml parse of the same files",
        base,
        files=len(files),
        elements=elements,
        goal_ratio=2,
        cpu_ratio=round(cpu_ratio, 4),
        cpu_s=round(ours_cpu.median, 6),
        baseline_cpu_s=round(base_cpu.median, 6),
        cpu_spread=round(ours_cpu.spread, 4),
    )


if __name__ == "__main__":
    main()
