"""Subject identifiers and the keyed subject reference: one scheme for every service (``shared.rules.subjects``)."""

from shared.rules.subjects import IdentifierKind, normalise_identifier, parse_identifier_kind, subject_ref

# The names this service's code has always used.
parse_kind = parse_identifier_kind
normalise = normalise_identifier

__all__ = ["IdentifierKind", "normalise", "parse_kind", "subject_ref"]
