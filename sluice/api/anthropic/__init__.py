"""The Anthropic Messages surface (``POST /v1/messages``): Anthropic SDK clients in, any provider out."""
