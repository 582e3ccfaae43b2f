-- Retrieval in answers (sluice.pipeline.retrieval): how long it took, and what was retrieved and
-- dropped as JSON (file ids, stores, scores, guard categories; never the query, a payload).
ALTER TABLE request_log ADD COLUMN retrieval_ms REAL;
ALTER TABLE request_log ADD COLUMN retrieval TEXT;
