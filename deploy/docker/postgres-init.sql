-- The warehouse's own database beside Dagster's (POSTGRES_DB): both use Alembic's alembic_version
-- table, so they cannot share one.
CREATE DATABASE zuora_warehouse;
