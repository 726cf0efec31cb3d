"""Read a well-formed CSV/TSV through pyarrow's multithreaded block reader.

The values stay in Arrow string buffers (pandas' pyarrow-backed `str` dtype): about 12 bytes a
field, where pandas' Python strings cost about 60. On a 10M-event log this is what keeps
`prepare` within a few GiB (docs/performance.md, "Large logs").

Any file this reader cannot take exactly as `tables.read_table` would (a ragged or blank line, a
quoted newline, bad UTF-8, another encoding, a multi-character separator) makes it return None,
and the pandas reader runs instead: it gives the same table, or the precise error with its line.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

# Encodings whose decoding pyarrow does exactly as pandas' `utf-8-sig` (a BOM is skipped).
UTF8 = {None, "utf-8-sig", "utf_8_sig"}


def read_csv_fast(path: Path, sep: str, encoding: str | None) -> pd.DataFrame | None:
    """The table `read_table` returns for a header-first text file, or None to fall back.

    Returns:
        All columns as str ("" for empty fields), the index holding each row's 1-based line
        number (header = line 1), or None when the file needs the pandas reader.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(sep) != 1 or encoding not in UTF8:
        return None
    names = _header(path, sep)
    if names is None or len(names) < 2 or len(set(names)) < len(names):  # one column: a blank
        return None  # line would be a value here; repeated names: the pandas reader names them
    quoting = sep == ","
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            # an empty line is an error here (so the pandas reader drops it and keeps line numbers)
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"' if quoting else False,
                                              double_quote=quoting, newlines_in_values=False,
                                              ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    if table.num_rows == 0 or table.num_rows != _single_lines(path):
        return None  # a blank line, or a quoted field spanning lines: line numbers would shift
    df = pd.DataFrame({name: table.column(i).to_pandas() for i, name in enumerate(names)})
    df.index = pd.RangeIndex(2, table.num_rows + 2, name="row")
    return df


# a plain non-negative decimal: whole digits, optionally a point and fraction digits
DECIMAL = r"^\s*(?P<whole>\d+)(?:\.(?P<fraction>\d*))?\s*$"


def exact_decimals(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Plain non-negative decimals read exactly, in C (no float on the way, no Python string per value).

    `1600000360900` -> (1600000360900, 0); ` 1600000360.25 ` -> (1600000360, 250000000).

    Returns:
        whole: (n,) int64 part before the point; fraction: (n,) int64, the first nine digits
        after it as billionths (later digits are dropped). None when some value is not such a
        number (a sign, an exponent, a date, a missing value) or its whole part overflows int64:
        the caller's slower path then decides, and words its error.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.isna().any():
        return None
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        strings = pa.array(values.array)
    else:
        strings = pa.array(values.astype(str).to_numpy(dtype=object), type=pa.string())
    try:  # whole numbers, the usual log: one cast
        whole = pc.cast(strings, pa.int64()).to_numpy(zero_copy_only=False)
        return whole, np.zeros(len(whole), dtype=np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    parts = pc.extract_regex(strings, DECIMAL)
    if parts.null_count:
        return None
    fraction = pc.utf8_slice_codeunits(pc.utf8_rpad(parts.field("fraction"), 9, "0"), 0, 9)
    try:
        return (pc.cast(parts.field("whole"), pa.int64()).to_numpy(zero_copy_only=False),
                pc.cast(fraction, pa.int64()).to_numpy(zero_copy_only=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _single_lines(path: Path, block: int = 1 << 26) -> int:
    """Data lines of the file when none is blank, else -1 (one pass, in 64 MiB blocks)."""
    lines, tail, last = 0, b"", b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            window = tail + chunk
            if b"\n\n" in window or b"\n\r\n" in window:
                return -1
            lines += chunk.count(b"\n")
            tail, last = window[-2:], chunk[-1:]
    return lines - 1 + (last != b"\n")  # the header's line; a last line without its newline


def _header(path: Path, sep: str) -> list[str] | None:
    """The first line's field names, or None when that line is not a plain one-line header."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        try:
            line = handle.readline()
        except UnicodeDecodeError:
            return None
    text = line.rstrip("\r\n")
    if not text.strip() or (sep == "," and text.count('"') % 2):
        return None
    quoting = csv.QUOTE_MINIMAL if sep == "," else csv.QUOTE_NONE
    return next(csv.reader([text], delimiter=sep, quoting=quoting))
