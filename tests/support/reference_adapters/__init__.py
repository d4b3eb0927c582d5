"""The Python adapters police, market and city were read by before their feed definitions
(service/feeds/definitions/shipped/): kept as the independent reference the definitions agree with
on every sample and on random messy records (tests/feeds/test_definitions.py), and that
benchmarks/bench_adapters.py measures them against. Ingest does not use them.
"""
