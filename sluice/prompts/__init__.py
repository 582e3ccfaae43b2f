"""The prompt registry: versioned, tenant-scoped message templates (render.py: strict ``{variable}``
templates; params.py: the request parameters a version may carry; diff.py: two versions compared).
The versions, labels and their history live in the store (``sluice.store.records``)."""
