"""The test PostgreSQL has pgvector: vector columns, an HNSW cosine index, nearest neighbours through asyncpg."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.fixtures.services import pg_bindir, reset_postgres_schema

ROWS = [
    ("east", "[1, 0, 0]"),
    ("north-east", "[1, 1, 0]"),
    ("north", "[0, 1, 0]"),
    ("up", "[0, 0, 1]"),
    ("west", "[-1, 0, 0]"),
]


@pytest.fixture
async def conn(postgres_clean: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(postgres_clean)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except asyncpg.PostgresError as e:
        await conn.close()
        pytest.fail(
            f"pgvector is missing from the PostgreSQL in {pg_bindir()}: {e}; run `bash scripts/install.sh --test`"
        )
    yield conn
    await conn.close()


async def test_hnsw_cosine_nearest_neighbours(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, embedding vector(3) NOT NULL)"
    )
    await conn.execute("CREATE INDEX items_embedding ON items USING hnsw (embedding vector_cosine_ops)")
    await conn.executemany("INSERT INTO items (name, embedding) VALUES ($1, $2::vector)", ROWS)
    # Seq scans off: the plan must use the HNSW index, not a sort of the whole table.
    await conn.execute("SET enable_seqscan = off")
    query = "SELECT name, embedding <=> $1::vector AS distance FROM items ORDER BY embedding <=> $1::vector LIMIT $2"
    plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {query}", "[1, 0.2, 0]", 5))
    assert "items_embedding" in plan, plan

    rows = await conn.fetch(query, "[1, 0.2, 0]", 5)
    assert [r["name"] for r in rows] == ["east", "north-east", "north", "up", "west"]
    distances = [r["distance"] for r in rows]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(1 - 1 / (1.04**0.5), abs=1e-6)
    assert distances[3] == pytest.approx(1.0, abs=1e-6)
    assert distances[4] == pytest.approx(2 - distances[0], abs=1e-6)

    nearest = await conn.fetchval(
        "SELECT name FROM items ORDER BY embedding <=> $1::vector LIMIT 1", "[0.1, 0.9, 0.05]"
    )
    assert nearest == "north"


async def test_the_schema_reset_drops_the_extension(conn: asyncpg.Connection, postgres_dsn: str) -> None:
    """``postgres_clean`` drops schema public, and the extension in it, so each test starts without it."""
    assert await conn.fetchval("SELECT '[3, 4]'::vector <-> '[0, 0]'::vector") == 5.0
    assert await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == 1
    reset_postgres_schema(postgres_dsn)
    assert await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == 0
