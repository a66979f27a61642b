"""Benchmarks: a national-scale synthetic dataset (:mod:`benchmarks.national`) and the measurements
that use it (:mod:`benchmarks.bench_roster`). Timing lives here, never in tests (DESIGN.md §4 rule 11)."""
