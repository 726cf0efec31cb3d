"""Evaluation: ranking metrics (pure tensor functions), segments, significance and reports."""
