"""The local console: `patrol serve` (console/app.py)."""
