"""The analysts' side at fleet scale: the Parquet lake the receiver writes and the DuckDB
queries the notebook, the daily report and the data API share.

Qt-free; ``docs/analysts.md`` is the analysts' guide.
"""
