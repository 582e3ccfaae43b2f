"""Auto aliases: a request to one goes to one of its tiers (fast, balanced, strong, long_context),
chosen by its features (``features.py``) or named by the caller, and falls through the tiers
above the chosen one on failure like any fallback chain. The choice and its reason are the
``x-sluice-route`` header's value and the request log's ``route``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sluice.errors import InvalidRequestError, PermissionDeniedError
from sluice.routing.features import Features, features
from sluice.routing.router import RouteLookup
from sluice.routing.table import Route
from sluice.settings import AutoSettings, AutoTiers, ModelSettings, Settings
from sluice.types import ChatRequest

TIERS: tuple[str, ...] = tuple(AutoTiers.model_fields)
"""Cheapest first."""

# Weights of the request's other features in its score (the last user turn's difficulty is the
# base), tuned on bench/data/routing_tune.jsonl only.
TOOL_WEIGHT = 0.12
"""Per tool, up to four: several tools need a plan."""
IMAGE_WEIGHT = 0.15
JSON_WEIGHT = 0.1
LONG_CONVERSATION_WEIGHT = 0.1

MAX_CHAINS = 4096
"""Routes kept per auto alias (see ``AutoAlias._chain``)."""

# Published context windows (input plus output tokens) of common models, by name prefix, longest
# prefix first; an alias's own ``context_window`` overrides them.
KNOWN_WINDOWS: tuple[tuple[str, int], ...] = (
    ("gpt-4.1", 1_047_576),
    ("gpt-4o", 128_000),
    ("o4-mini", 200_000),
    ("o3", 200_000),
    ("claude", 200_000),
)


@dataclass(frozen=True, slots=True)
class Choice:
    tier: str
    alias: str
    reason: str
    """``hint`` (``sluice.route``) or ``header`` (``x-sluice-route``); else the feature that
    decided: ``simple``, ``difficulty``, ``tools``, ``images``, ``json``, ``conversation``,
    ``context`` (moved up to a tier whose window holds the request) or ``allowed`` (moved to
    the nearest tier the caller may use)."""

    @property
    def header(self) -> str:
        return f"{self.tier}; reason={self.reason}"


def context_window(m: ModelSettings) -> int | None:
    """The alias's window: its own, else the smallest known one of its deployments' models."""
    if m.context_window is not None:
        return m.context_window
    known = [w for d in m.deployments for prefix, w in KNOWN_WINDOWS if d.model.startswith(prefix)]
    return min(known) if known else None


class AutoAlias:
    """One auto alias, built once at startup."""

    def __init__(
        self, alias: str, auto: AutoSettings, windows: Mapping[str, int | None], route: RouteLookup
    ) -> None:
        self.alias = alias
        self._auto = auto
        named = auto.tiers.model_dump()
        self._tiers = tuple((t, named[t]) for t in TIERS if named[t] is not None)
        """(tier, alias) for each configured tier, cheapest first."""
        self._by_tier = dict(self._tiers)
        self._windows = windows
        self._route = route
        self._chains: dict[tuple[str, tuple[str, ...], frozenset[str] | None], Route] = {}
        """Routes already made, by chosen alias, the aliases above it and what the caller may use."""

    def resolve(
        self, request: ChatRequest, input_tokens: int, header: str | None, allowed: frozenset[str] | None
    ) -> tuple[Route, Choice]:
        """The route for this request and why: the named tier's (``sluice.route``, else the
        ``x-sluice-route`` header), else the features'; its chain is the tier's own, then the
        tiers above it that hold the request, each cut to the aliases the caller may use.

        Raises:
            PermissionDeniedError: the caller may not use the auto alias, none of its tiers, or
                the tier it named (``model_not_allowed``).
            InvalidRequestError: a named tier that the alias does not have.
        """
        if allowed is not None and self.alias not in allowed:
            raise PermissionDeniedError(
                f"This key may not use the model `{self.alias}`.", param="model", code="model_not_allowed"
            )
        usable = [(t, a) for t, a in self._tiers if allowed is None or a in allowed]
        if not usable:
            raise PermissionDeniedError(
                f"This key may use none of the tiers of the model `{self.alias}`.",
                param="model",
                code="model_not_allowed",
            )
        f = features(request, input_tokens, self._auto.output_reserve_tokens)
        options = request.sluice
        if options is not None and options.route is not None:
            choice = self._named(options.route, "hint", "sluice.route", usable)
        elif header is not None:
            choice = self._named(header.strip(), "header", "x-sluice-route", usable)
        else:
            choice = self.decide(f, usable)
        return self._chain(choice, f, usable, allowed), choice

    def decide(self, f: Features, usable: list[tuple[str, str]]) -> Choice:
        """The tier the features ask for, moved up to the first usable tier whose window holds
        the request (else down to the nearest usable one); with none holding it, the largest."""
        wanted, reason = self._wanted(f)
        at = TIERS.index(wanted)
        order = [x for x in usable if TIERS.index(x[0]) >= at] + [
            x for x in reversed(usable) if TIERS.index(x[0]) < at
        ]
        fitting = [(t, a) for t, a in order if self._fits(a, f)]
        if not fitting:
            t, a = max(usable, key=lambda x: self._windows.get(x[1]) or 0)
            return Choice(t, a, "context")
        t, a = fitting[0]
        configured = self._by_tier.get(wanted)
        if t != wanted and configured is not None:
            reason = "allowed" if self._fits(configured, f) else "context"
        return Choice(t, a, reason)

    def _fits(self, alias: str, f: Features) -> bool:
        window = self._windows.get(alias)
        return window is None or f.needed_tokens <= window

    def _wanted(self, f: Features) -> tuple[str, str]:
        """The tier by score, and the feature that added most to it."""
        parts = {
            "difficulty": f.difficulty,
            "tools": min(f.tools, 4) * TOOL_WEIGHT,
            "images": min(f.images, 2) * IMAGE_WEIGHT,
            "json": JSON_WEIGHT if f.json_schema else 0.0,
            "conversation": LONG_CONVERSATION_WEIGHT
            if f.messages >= self._auto.long_conversation_messages
            else 0.0,
        }
        score = sum(parts.values())
        if score >= self._auto.strong_from:
            tier = "strong"
        elif score >= self._auto.balanced_from:
            tier = "balanced"
        else:
            return "fast", "simple"
        return tier, max(parts, key=parts.__getitem__)

    def _named(self, tier: str, reason: str, param: str, usable: list[tuple[str, str]]) -> Choice:
        a = self._by_tier.get(tier)
        if a is None:
            have = ", ".join(t for t, _ in self._tiers)
            shown = tier if len(tier) <= 40 else tier[:40] + "..."
            raise InvalidRequestError(
                f"The model `{self.alias}` has no tier `{shown}` (it has: {have}).", param=param
            )
        if (tier, a) not in usable:
            raise PermissionDeniedError(
                f"This key may not use the tier `{tier}` of the model `{self.alias}`.",
                param=param,
                code="model_not_allowed",
            )
        return Choice(tier, a, reason)

    def _chain(
        self, choice: Choice, f: Features, usable: list[tuple[str, str]], allowed: frozenset[str] | None
    ) -> Route:
        """The chosen tier's route, its chain followed by the chains of the usable tiers above it
        that hold the request (each cut by ``Router.route`` to what the caller may use)."""
        at = TIERS.index(choice.tier)
        up = tuple(a for t, a in usable if TIERS.index(t) > at and self._fits(a, f))
        key = (choice.alias, up, allowed)
        made = self._chains.get(key)
        if made is not None:
            return made
        route = self._route(choice.alias, "chat", allowed)
        chain = dict.fromkeys(route.chain)
        for alias in up:
            chain.update(dict.fromkeys(self._route(alias, "chat", allowed).chain))
        made = route if len(chain) == len(route.chain) else replace(route, chain=tuple(chain))
        if len(self._chains) >= MAX_CHAINS:
            self._chains.clear()  # bounded: callers' allowed sets are few, and making one again is cheap
        self._chains[key] = made
        return made


def auto_aliases(settings: Settings, route: RouteLookup) -> dict[str, AutoAlias]:
    """Every auto alias of the config, with its tiers' context windows."""
    windows = {alias: context_window(m) for alias, m in settings.models.items() if m.auto is None}
    return {
        alias: AutoAlias(alias, m.auto, windows, route)
        for alias, m in settings.models.items()
        if m.auto is not None
    }
