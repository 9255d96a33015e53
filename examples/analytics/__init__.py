"""A demo product-analytics store on SQLite, answering DSAR tasks and retention sweeps via the SDK."""
