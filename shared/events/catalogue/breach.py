"""Breach events (the breach service adds its event types here)."""

from __future__ import annotations
