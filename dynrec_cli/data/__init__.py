"""Data: schema, readers (CSV/Parquet/presets), cleaning, filters, splits and sequences."""
