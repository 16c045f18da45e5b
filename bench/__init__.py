"""Benchmarks (not tests): throughput, memory and scaling, reported in docs/benchmarks.md."""
