"""What runs a service: the factory, settings, database, auth, problems, logging, metrics, jobs, audit."""
