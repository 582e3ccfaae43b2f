"""The OpenAI Responses API surface: /v1/responses, translated to and from chat at its edge."""
