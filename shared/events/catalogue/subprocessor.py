"""Subprocessor events (the subprocessor service adds its event types here)."""

from __future__ import annotations
