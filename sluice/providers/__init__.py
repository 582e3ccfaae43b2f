"""Model APIs behind one narrow protocol (``base.Provider``), picked by config ``type``."""

from __future__ import annotations

from collections.abc import Callable

from sluice.obs.redact import Redactor
from sluice.providers.base import Provider
from sluice.providers.batches import BatchApi
from sluice.settings import ProviderSettings


def _openai(settings: ProviderSettings, connect_timeout_s: float, redactor: Redactor) -> Provider:
    from sluice.providers.openai import OpenAIProvider

    return OpenAIProvider(settings, connect_timeout_s, redactor)


def _anthropic(settings: ProviderSettings, connect_timeout_s: float, redactor: Redactor) -> Provider:
    from sluice.providers.anthropic import AnthropicProvider

    return AnthropicProvider(settings, connect_timeout_s, redactor=redactor)


def _sim(settings: ProviderSettings, connect_timeout_s: float, redactor: Redactor) -> Provider:
    # The sim's errors are the gateway's own words: nothing upstream to scrub.
    from sluice.providers.sim import SimProvider

    return SimProvider(settings)


# Imported on use: a gateway that routes only to OpenAI never loads the Anthropic code. Each gets
# the Redactor that scrubs every configured secret from upstream error text where it enters.
PROVIDER_TYPES: dict[str, Callable[[ProviderSettings, float, Redactor], Provider]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "sim": _sim,
}


def batch_api(
    name: str, settings: ProviderSettings, connect_timeout_s: float, redactor: Redactor
) -> BatchApi | None:
    """The provider's own batch API, for batches forwarded to it (``batch: native``): a pool of
    its own, small (a batch is a few calls), apart from the interactive one. None for the sim."""
    from sluice.providers.http import UpstreamClient

    http = UpstreamClient(name, 8, connect_timeout_s, redactor)
    if settings.type == "openai":
        from sluice.providers.openai_batch import OpenAIBatches

        return OpenAIBatches(http, redactor)
    if settings.type == "anthropic":
        from sluice.providers.anthropic.batch import AnthropicBatches

        return AnthropicBatches(http, redactor=redactor)
    return None
