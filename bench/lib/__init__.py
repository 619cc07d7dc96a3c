"""Shared harness of the benchmarks in bench/: deployments, client processes, reports."""
