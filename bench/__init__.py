"""City-scale benchmark, load test and generator (`make bench`, `make load`)."""

# Filled by the timed page wrapper of bench/run.py (the page script runs in AppTest's thread).
PAGE_MS: list[float] = []
