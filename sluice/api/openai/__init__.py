"""The OpenAI-compatible surface: chat completions, embeddings, models."""
