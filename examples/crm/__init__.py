"""A demo CRM on PostgreSQL (its own database), answering DSAR tasks through the privops SDK."""
