"""The portal runs no periodic job: its sessions live in signed cookies that expire by themselves."""

from __future__ import annotations

from shared.runtime.jobs import PeriodicJob

JOBS: list[PeriodicJob] = []
