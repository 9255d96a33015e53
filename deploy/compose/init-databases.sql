-- One database per privops service, owned by POSTGRES_USER.
-- The postgres image runs this once, when the data volume is empty
-- (mounted into /docker-entrypoint-initdb.d by docker-compose.yml).
CREATE DATABASE consent;
CREATE DATABASE dsar;
CREATE DATABASE retention;
CREATE DATABASE breach;
CREATE DATABASE subprocessor;
CREATE DATABASE notify;
CREATE DATABASE identity;
-- The portal keeps no table: its database only answers its readiness check.
CREATE DATABASE portal;
