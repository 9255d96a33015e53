"""The portal takes plain HTML forms, parsed in ``domain/forms.py``; it defines no JSON API of its own."""

from __future__ import annotations
