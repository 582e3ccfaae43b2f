"""Model APIs behind one narrow protocol (``base.Provider``), picked by config ``type``."""

from __future__ import annotations

from collections.abc import Callable

from sluice.providers.base import Provider
from sluice.settings import ProviderSettings


def _openai(settings: ProviderSettings, connect_timeout_s: float) -> Provider:
    from sluice.providers.openai import OpenAIProvider

    return OpenAIProvider(settings, connect_timeout_s)


def _anthropic(settings: ProviderSettings, connect_timeout_s: float) -> Provider:
    from sluice.providers.anthropic import AnthropicProvider

    return AnthropicProvider(settings, connect_timeout_s)


def _sim(settings: ProviderSettings, connect_timeout_s: float) -> Provider:
    from sluice.providers.sim import SimProvider

    return SimProvider(settings)


# Imported on use: a gateway that routes only to OpenAI never loads the Anthropic code.
PROVIDER_TYPES: dict[str, Callable[[ProviderSettings, float], Provider]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "sim": _sim,
}
