-- A tenant's response-cache policy (store.records.CachePolicy as JSON); NULL: the config's.
ALTER TABLE tenants ADD COLUMN cache_policy JSONB;
