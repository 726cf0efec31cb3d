"""`python -m dynrec_cli` runs the CLI (also what `torchrun -m dynrec_cli` starts)."""

from dynrec_cli.cli import app

if __name__ == "__main__":
    app()
