"""Benchmarks: `python -m benchmarks.<name>`; each prints its numbers and what they compare to."""
