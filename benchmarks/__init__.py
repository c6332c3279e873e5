"""Scale benchmarks: a synthetic repository generator and page timings (``make bench``)."""
