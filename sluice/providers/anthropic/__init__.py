"""The ``anthropic`` provider: the Anthropic Messages API, translated to and from ``sluice.types``."""

from sluice.providers.anthropic.provider import AnthropicProvider

__all__ = ["AnthropicProvider"]
