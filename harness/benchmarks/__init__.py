"""Benchmarks that live in the project (``benchmarks/``): loaders and their checks."""
