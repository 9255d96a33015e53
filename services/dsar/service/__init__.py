"""Use cases of the DSAR service: they change state, stage events and audit; the framework commits."""
