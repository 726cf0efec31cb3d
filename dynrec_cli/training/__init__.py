"""The explicit training loop, checkpoints, device and precision."""
