"""Performance benchmarks: ``python -m benchmarks.NAME``; each ends with one JSON line."""
