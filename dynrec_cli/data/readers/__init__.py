"""Readers: any CSV/TSV/Parquet log, and MovieLens, RecBole, sequence and UniSRec presets."""

from dynrec_cli.data.readers.presets import read_dataset
from dynrec_cli.data.readers.tables import read_table

__all__ = ["read_dataset", "read_table"]
