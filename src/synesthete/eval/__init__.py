"""Metrics against the procedural ground truth, and baselines side by side."""
