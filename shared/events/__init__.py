"""Events: the CloudEvents envelope, the typed catalogue and the topics."""
