"""runtime.reuse_freed_memory: freed large blocks stay in the process instead of going back to the OS."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
import torch
from dynrec_cli.runtime import reuse_freed_memory

def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

applied = reuse_freed_memory() if sys.argv[1] == "reuse" else False
block = torch.ones(32 << 18)  # 32 MiB: above glibc's default mmap threshold, below ours
before = rss_mib()
del block
print(applied, before - rss_mib())
"""


def _released_mib(mode: str) -> tuple[bool, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], check=True, capture_output=True, text=True).stdout.split()
    return out[0] == "True", float(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_32_mib_block_is_kept_only_when_asked() -> None:
    applied, released = _released_mib("reuse")
    if not applied:
        pytest.skip("this C library has no mallopt")
    assert released < 4  # kept for the next allocation
    _, released_by_default = _released_mib("default")
    assert released_by_default > 28  # glibc unmaps a block this large on free
