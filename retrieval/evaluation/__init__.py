"""Measure the searcher: evaluation files, CMRC 2018 benchmarks, the gate's calibration.

Rooms: `cmrc` (the CMRC 2018 reader), `evaluate` (`linli eval`), `bench` and
`archive_bench` (`linli bench`), `calibrate` (`linli calibrate`), `timing` (medians,
p50/p95), `gov` and `gov_figures` (`linli eval --gov`, the government-service sets).
May import everything else in retrieval/; nothing in retrieval/ imports it except
`retrieval.cli`.
"""
