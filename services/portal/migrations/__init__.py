"""No migrations: the portal has no table (see ``models.py``)."""
