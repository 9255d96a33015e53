"""Use cases of the breach service: they change state, stage events and audit; the framework commits."""
