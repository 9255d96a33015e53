"""Use cases of the consent service: a session, the principal (or tenant) and the clock in; flush, never commit."""
