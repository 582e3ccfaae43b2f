"""Response caching: exact and semantic lookups, the local embedder and the near-miss verifier."""
