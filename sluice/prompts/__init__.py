"""Stored prompts: versioned, tenant-scoped message templates (render.py: strict ``{variable}``
templates; params.py: the request parameters a version may carry; diff.py: two versions compared;
catalog.py: what the request path reads, cached) and experiments on a label (assign.py, quality.py,
rules.py, rollback.py). The versions, labels, history and experiments live in the store
(``sluice.store.records``)."""
