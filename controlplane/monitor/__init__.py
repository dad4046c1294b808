"""Adapters to Azure Monitor: the Log Analytics query a rollout's error-rate gate asks."""
