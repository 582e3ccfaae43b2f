-- requires extension: vector
-- Vector store chunks' embeddings as pgvector values, searched through an HNSW index; optional,
-- as pgvector is (see migrations/__init__.py): without it the gateway scans the BYTEA copies.
-- vec holds any dimension: the index for a dimension is made by the store when it first stores
-- one (partial to rows of that dimension), so a change of embedding model needs no migration.
CREATE EXTENSION IF NOT EXISTS vector;
ALTER TABLE chunks ADD COLUMN IF NOT EXISTS vec vector;
