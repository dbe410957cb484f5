"""Reproducible benchmarks that print caseflow's figures beside their baselines' and the ratios.

`python -m benchmarks` runs them all (see benchmarks/README.md). Benchmarks are not tests: speed
targets live here, and tests only check that the benchmarks run and report in the agreed shape.
"""
