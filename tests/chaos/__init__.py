"""Fault injection against the local stack with real processes: ``python -m tests.chaos`` (``make chaos``)."""
