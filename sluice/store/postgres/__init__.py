"""The distributed backend: PostgreSQL through one asyncpg pool, shared by any number of replicas."""
