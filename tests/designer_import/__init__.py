"""Tests of the draw.io importer."""
