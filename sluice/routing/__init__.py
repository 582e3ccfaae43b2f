"""Model aliases to deployments: strategies, retries, circuit breakers, timeouts, fallbacks."""
