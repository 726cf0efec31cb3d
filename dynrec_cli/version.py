"""dynrec's version, from the installed package's metadata (the checkout's __version__ when not installed)."""

from __future__ import annotations


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("dynrec")
    except PackageNotFoundError:  # run from a checkout that was never installed
        from dynrec_cli import __version__

        return __version__
