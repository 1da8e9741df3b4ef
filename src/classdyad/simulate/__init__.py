"""Synthetic studies with known truth (the replica of the seed design) and power analysis."""
