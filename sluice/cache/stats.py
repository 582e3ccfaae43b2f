"""What the cache did for each tenant, counted in this process: hits, misses, tokens and USD
saved, and the shadow mode's evidence (how often the semantic layer would have answered, and how
often its answer would have disagreed with the fresh one)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class TenantStats:
    lookups: int = 0
    exact_hits: int = 0
    semantic_hits: int = 0
    misses: int = 0
    tokens_saved: int = 0
    cost_micros_saved: int = 0
    semantic_rejected: int = 0
    """Candidates over the threshold that verification or the judge turned down."""
    semantic_timeouts: int = 0
    """Lookups that took longer than the bound and counted as misses."""
    shadow_lookups: int = 0
    shadow_would_hit: int = 0
    shadow_compared: int = 0
    """Would-be hits whose fresh answer was compared with the cached one."""
    shadow_disagreed: int = 0
    """Of those, the ones whose answers were less similar than ``shadow_agreement``."""
    shadow_answer_similarity_sum: float = 0.0

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)
        del out["shadow_answer_similarity_sum"]
        served = self.exact_hits + self.semantic_hits
        out["hit_rate"] = round(served / self.lookups, 4) if self.lookups else None
        out["usd_saved"] = round(self.cost_micros_saved / 1_000_000, 6)
        del out["cost_micros_saved"]
        out["shadow"] = {
            "lookups": out.pop("shadow_lookups"),
            "would_hit": out.pop("shadow_would_hit"),
            "would_hit_rate": round(self.shadow_would_hit / self.shadow_lookups, 4)
            if self.shadow_lookups
            else None,
            "compared": out.pop("shadow_compared"),
            "estimated_false_hit_rate": round(self.shadow_disagreed / self.shadow_compared, 4)
            if self.shadow_compared
            else None,
            "mean_answer_similarity": round(self.shadow_answer_similarity_sum / self.shadow_compared, 4)
            if self.shadow_compared
            else None,
        }
        del out["shadow_disagreed"]
        return out


class CacheStats:
    def __init__(self) -> None:
        self._tenants: dict[str, TenantStats] = {}

    def of(self, tenant_id: str) -> TenantStats:
        s = self._tenants.get(tenant_id)
        if s is None:
            s = self._tenants[tenant_id] = TenantStats()
        return s

    def report(self, tenant_id: str) -> dict[str, Any]:
        return {"tenant_id": tenant_id, **self.of(tenant_id).report()}
