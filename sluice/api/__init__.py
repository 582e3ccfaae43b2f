"""Data-plane HTTP: each surface converts its wire format to ``sluice.types`` at its edge."""
