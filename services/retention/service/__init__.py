"""Use cases of the retention service: they change state, stage events and audit; they never commit."""
