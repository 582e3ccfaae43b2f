"""The built-in simulated model: deterministic answers with tunable timing and failures, served
in-process (``providers/sim.py``) or as a standalone OpenAI-compatible server (``server.py``)."""
