"""Resource errors as one line: a full disk, a file-size limit, memory the machine cannot give.

Such an error is no bug and no bad input, but the user can act on it (free space, raise the
limit, lower a size), so it is said like bad input: one line naming the file or the config keys
to lower, exit code 2, and the stage's temporary folder is discarded as for any failure.
"""

from __future__ import annotations

import contextlib
import errno
import re
from collections.abc import Iterator
from pathlib import Path

from dynrec_cli.errors import ArtifactError, ConfigError

# why a file cannot be written: a permission, a read-only or full disk, a quota, a file-size limit
UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_OS_ERROR = re.compile(r"\(os error (\d+)\)")  # how safetensors (Rust) carries the errno in its message
_OUT_OF_MEMORY = re.compile(r"can't allocate memory|not enough memory|out of memory|failed to allocate", re.IGNORECASE)


def write_errno(exc: BaseException) -> int | None:
    """The errno of a failed write, from an OSError or from safetensors' own error."""
    if isinstance(exc, OSError):
        return exc.errno
    from safetensors import SafetensorError

    found = _OS_ERROR.search(str(exc)) if isinstance(exc, SafetensorError) else None
    return int(found.group(1)) if found else None


def is_out_of_memory(exc: BaseException) -> bool:
    """MemoryError, torch's OutOfMemoryError, or an allocator's RuntimeError (CPU or CUDA)."""
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and bool(_OUT_OF_MEMORY.search(str(exc))))


@contextlib.contextmanager
def as_one_line(run_dir: Path, stage: str = "", memory_keys: tuple[str, ...] = ()) -> Iterator[None]:
    """Turn a write that the disk refuses, or an allocation that fails, into one line.

    Args:
        run_dir: the run folder, named when the failing file is not.
        stage: the stage running, for the memory message.
        memory_keys: the config keys that set the stage's peak memory, named as what to lower.
    """
    from safetensors import SafetensorError

    try:
        yield
    except (OSError, SafetensorError) as exc:
        code = write_errno(exc)
        if code not in UNWRITABLE:
            raise
        where = getattr(exc, "filename", None) or run_dir
        raise ArtifactError(f"{where}: {errno_text(code)} (run folder: {run_dir})") from None
    except (MemoryError, RuntimeError) as exc:
        if not is_out_of_memory(exc):
            raise
        lower = f"; lower {', '.join(memory_keys)}" if memory_keys else ""
        label = f"[{stage}] " if stage else ""
        raise ConfigError(f"{label}out of memory ({_first_line(exc)}){lower}") from None


def errno_text(code: int) -> str:
    """The system's words for an errno, with a hint where there is one."""
    import os

    hint = {errno.EFBIG: "a file-size limit (ulimit -f) or the file system's largest file",
            errno.ENOSPC: "free some space or choose another run_dir=", errno.EDQUOT: "the disk quota is reached"}.get(code)
    return os.strerror(code) + (f"; {hint}" if hint else "")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines) if lines else type(exc).__name__
    start = text.find("DefaultCPUAllocator")  # after torch's "[enforce fail at alloc_cpu.cpp:127] err == 0."
    return text[max(start, 0):][:200]
