"""Ranking: exact chunked top-K, ANN, re-ranking strategies and explanations."""
