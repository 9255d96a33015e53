"""privops benchmarks: one command measures the platform against baselines taken in the same run.

``make bench`` (or ``python -m bench``) starts PostgreSQL and the broker on free loopback ports,
the five services as real subprocesses, and a bare FastAPI + asyncpg app; it runs every scenario
of ``bench/scenarios/`` and writes a Markdown + JSON + PNG report under ``bench/results/``.
"""
