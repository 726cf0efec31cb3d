"""dynrec: language-model-assisted sequential recommendation that follows users' changing interests."""

__version__ = "0.1.0"
