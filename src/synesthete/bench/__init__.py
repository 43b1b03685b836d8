"""Benchmarks that print one JSON object each (figures for the README come from these)."""
