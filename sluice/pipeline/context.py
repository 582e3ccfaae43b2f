"""RequestContext: everything one request carries from stage to stage, as named fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from sluice.auth.principal import Principal
from sluice.budgets.ledger import Reservation
from sluice.limits.counters import Quota, Ticket
from sluice.routing.deployment import Deployment
from sluice.routing.router import Attempt
from sluice.routing.table import Route
from sluice.types import ChatRequest, EmbeddingRequest


@dataclass(slots=True)
class RequestContext:
    request_id: str
    credential: str | None
    """The API key the client presented (Bearer token or ``x-api-key``), not yet checked."""
    request: ChatRequest | EmbeddingRequest
    principal: Principal | None = None
    route: Route | None = None
    deployment: Deployment | None = None
    """The deployment that answered (set once an attempt succeeded)."""
    attempts: list[Attempt] = field(default_factory=list)
    quota: Quota | None = None
    """The rate limits' numbers for the ``x-ratelimit-*`` headers (set once admitted)."""
    admission: Ticket | None = None
    """What admission recorded, for settle to release and correct; None once settled."""
    strips_usage: bool = False
    """Admission or budgets asked the upstream for stream usage the client did not ask for: drop it."""
    budget: Reservation | None = None
    """What the budget stage reserved, for settle to correct; None once settled."""
    cost_micros: int | None = None
    """What the answer cost at its deployment's price (set by settle), for ``x-sluice-cost-usd``."""
