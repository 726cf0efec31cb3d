"""Incremental interest capture: the on-disk interest store, event application, new items, drift."""
