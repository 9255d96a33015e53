"""The portal as a DSAR store: it holds nothing about a person, so a rights request has nothing to do here.

Form values go straight to the service that owns them; sessions are cookies held by the browser
and expire with the identity service's access token.
"""

from __future__ import annotations

HOLDS_PERSONAL_DATA = False
