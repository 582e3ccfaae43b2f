"""Token and USD budgets: prices per model and the ledger that reserves and settles spend."""
