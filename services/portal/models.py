"""The portal keeps no table: it owns no privacy data, and its sessions are encrypted cookies.

Every page reads and writes through the other services' public APIs (``service/backends.py``).
"""

from __future__ import annotations
