-- A tenant's guardrail policy (store.records.GuardrailPolicy as JSON); NULL: the config's.
ALTER TABLE tenants ADD COLUMN guardrail_policy TEXT;
