"""Read one table (CSV, TSV or Parquet) as strings, turning every bad input into a DataError."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from dynrec_cli.data.readers.arrow_csv import read_csv_fast
from dynrec_cli.errors import DataError

# Separator by file extension; anything else is read as CSV unless `sep` says otherwise.
SEPARATORS = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".inter": "\t", ".item": "\t", ".txt": "\t"}
PARQUET = {".parquet", ".pq"}
# Characters that, found in a one-column header, betray a wrong delimiter.
LIKELY_SEPS = [",", "\t", ";", "|"]


def read_table(
    path: Path,
    sep: str | None = None,
    header: bool = True,
    names: list[str] | None = None,
    encoding: str | None = None,
    sep_key: str | None = "data.sep",
) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file, choosing the format by extension.

    Text files are read as strings (empty fields stay ""), UTF-8 with any BOM stripped unless
    `encoding` says otherwise. Comma-separated files honour double quotes; other separators
    are read literally (TSV and GroupLens files are not quoted).

    Args:
        path: the file.
        sep: the field separator; None picks it from the extension.
        header: whether the first line names the columns.
        names: column names for a file without header (or to replace the header).
        encoding: text encoding; None means UTF-8.
        sep_key: the option that sets `sep`, named in the fix of a ragged line; None for a
            format whose separator is fixed (the fix then says to repair the line).

    Returns:
        The table. Its index holds each row's 1-based line number in the file (header = line
        1; a quoted field spanning lines shifts the numbers after it), or for Parquet the
        row's 1-based position.

    Raises:
        DataError: missing, empty, undecodable or ragged file, or duplicate column names.
    """
    path = Path(path)
    check_file(path)
    if path.suffix.lower() in PARQUET:
        return _read_parquet(path)
    sep = sep or SEPARATORS.get(path.suffix.lower(), ",")
    if header and names is None and (fast := read_csv_fast(path, sep, encoding)) is not None:
        _check_header(path, list(fast.columns), sep, True, sep_key)
        return fast
    encoding = encoding or "utf-8-sig"
    raw = _read_text(path, sep, encoding, sep_key)
    records = len(raw)
    raw.index = pd.RangeIndex(1, records + 1, name="row")
    if header:
        columns = [str(name) for name in raw.iloc[0].fillna("")] if len(raw) else []
        raw = raw.iloc[1:]
    else:
        columns = list(raw.columns)
    if names is not None:
        if len(names) != raw.shape[1]:
            raise DataError(path, f"has {raw.shape[1]} fields per line, expected {len(names)}: "
                            f"{', '.join(names)}", row=int(raw.index[0]) if len(raw) else 1)
        columns = list(names)
    raw.columns = columns
    _check_header(path, columns, sep, header and names is None, sep_key)
    return _drop_blank_lines(path, raw, records, sep, encoding, sep_key)


def read_text(path: Path, encoding: str | None = None) -> str:
    """Read a whole text file, UTF-8 (BOM stripped) unless `encoding` says otherwise.

    Raises:
        DataError: missing, empty or undecodable file (naming the line of the bad byte).
    """
    path = Path(path)
    check_file(path)
    encoding = encoding or "utf-8-sig"
    try:
        return path.read_bytes().decode(encoding)
    except UnicodeDecodeError as err:
        raise _decode_error(path, encoding, err) from None


def require_columns(df: pd.DataFrame, path: Path, needed: dict[str, str | None], fix: str | None = None) -> None:
    """Check that `df` has every column the config names.

    Args:
        df: the table read from `path`.
        path: the file, for the message.
        needed: config key (e.g. `data.columns.user`) -> column name; None entries are skipped.
        fix: the advice; None suggests setting the key to a column the file has.

    Raises:
        DataError: naming the first missing column, its config key and the columns present.
    """
    for role, column in needed.items():
        if column is not None and column not in df.columns:
            have = ", ".join(map(str, df.columns))
            hint = f"set {role}= to one of those columns"
            if role.endswith("columns.time"):  # a step or row counter is not a time: never suggest one
                hint = f"set {role}= to the column of times, or {role}=null if the log has none and its rows are in time order"
            raise DataError(path, f"no column '{column}' (from {role}); the file has: {have}", fix=fix or hint)


def check_file(path: Path, key: str = "data.interactions= and data.items= (format csv) or data.path= (presets)") -> None:
    """Refuse a missing, folder or empty path before any reading; `key`: the option naming it."""
    if not path.exists():
        raise DataError(path, "file not found", fix=f"check {key}")
    if path.is_dir():
        raise DataError(path, "is a folder, expected a file")
    if not path.is_file():  # a pipe (<(zcat log.gz)), a device: its size says nothing, and it reads only once
        raise DataError(path, "is not a regular file (a pipe, device or socket)", fix="write the data to a file first")
    if path.stat().st_size == 0:
        raise DataError(path, "the file is empty (0 bytes)")


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        df = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise DataError(path, f"cannot be read as Parquet ({err})") from None
    df.columns = [str(name) for name in df.columns]
    _check_header(path, list(df.columns), None, False)
    if df.empty:
        raise DataError(path, "has no data rows")
    df.index = pd.RangeIndex(1, len(df) + 1, name="row")
    return df


def _sep_fix(path: Path, sep: str | None, sep_key: str | None) -> str:
    """The fix of a line with the wrong number of fields."""
    if sep_key is not None:
        return f"check {sep_key}"
    return f"the fields of {path.name} are separated by {sep!r}; repair or remove the line"


def _read_text(path: Path, sep: str, encoding: str, sep_key: str | None) -> pd.DataFrame:
    """All fields as str; empty and missing fields both come back as NaN."""
    try:
        return pd.read_csv(
            path, sep=sep, header=None, dtype=str, keep_default_na=False, na_values=[""],
            skip_blank_lines=False, encoding=encoding,
            quoting=csv.QUOTE_MINIMAL if sep == "," else csv.QUOTE_NONE,
            engine="python" if len(sep) > 1 else "c",
        )
    except UnicodeDecodeError as err:
        raise _decode_error(path, encoding, err) from None
    except pd.errors.EmptyDataError:
        raise DataError(path, "has no data rows") from None
    except pd.errors.ParserError as err:
        quote = re.search(r"EOF inside string starting at row (\d+)", str(err))
        if quote:  # the parser counts records from 0: row r is line r + 1
            raise DataError(path, "a quoted field never closes (an unmatched \")", row=int(quote.group(1)) + 1,
                            fix="close or remove the quote") from None
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        if not match:
            raise DataError(path, f"cannot be parsed ({err})") from None
        want, line, saw = match.groups()
        raise DataError(path, f"has {saw} fields, the lines above have {want} (a stray separator "
                        "or the wrong one?)", row=int(line), fix=_sep_fix(path, sep, sep_key)) from None


def _decode_error(path: Path, encoding: str, err: UnicodeDecodeError) -> DataError:
    """Locate the bad byte ourselves: the parser's offset is relative to its buffer."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
        offset = err.start
    except UnicodeDecodeError as full:
        offset = full.start
    if data.startswith(b"PAR1"):
        return DataError(path, f"is a Parquet file, but its name ends in {path.suffix}", row=1,
                         fix="rename it to .parquet")
    if data.startswith(b"\x1f\x8b"):
        return DataError(path, "is gzip-compressed", row=1, fix=f"name it {path.name}.gz or decompress it")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" and Notepad's "Unicode"
        return DataError(path, "starts with a UTF-16 byte-order mark, not UTF-8", row=1,
                         fix="set data.encoding=utf-16 or save the file as UTF-8")
    line = data.count(b"\n", 0, offset) + 1
    return DataError(path, f"is not valid {encoding} (byte {data[offset:offset + 1]!r} at offset "
                     f"{offset})", row=line, fix="set data.encoding=latin-1 or the file's encoding")


def _check_header(path: Path, columns: list[str], sep: str | None, from_file: bool,
                  sep_key: str | None = "data.sep") -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if name in seen:
            raise DataError(path, f"column name '{name}' appears twice (fields {seen[name]} and "
                            f"{position})", row=1 if from_file else None)
        seen[name] = position
    if from_file and len(columns) == 1:
        hint = next((s for s in LIKELY_SEPS if s != sep and s in columns[0]), None)
        if hint is not None:
            raise DataError(path, f"reads as one column '{columns[0]}'; the fields look separated "
                            f"by {hint!r}, not {sep!r}", row=1,
                            fix=f"set {sep_key}={hint!r}" if sep_key else _sep_fix(path, sep, None))


def _drop_blank_lines(
    path: Path, df: pd.DataFrame, records: int, sep: str, encoding: str, sep_key: str | None
) -> pd.DataFrame:
    """Drop blank lines, fail on short (truncated) ones, and turn empty fields into "".

    The C parser pads a short line with empty fields, so the few lines with an empty field are
    re-split from the raw text to tell the two apart. That needs one record per line: when a
    quoted field spans lines, only wholly empty records are dropped.
    """
    suspects = df.index[df.isna().any(axis=1)]
    blank = list(df.index[df.isna().all(axis=1)])
    if len(suspects):
        lines = read_text(path, encoding).split("\n")
        lines = lines[:-1] if lines[-1] == "" else lines
        if len(lines) == records:
            blank = [line for line in suspects
                     if _short_line(path, lines[line - 1].rstrip("\r"), line, sep, df.shape[1], sep_key)]
    df = df.drop(index=blank).fillna("")
    if df.empty:
        raise DataError(path, "has no data rows")
    return df


def _short_line(path: Path, text: str, line: int, sep: str, width: int, sep_key: str | None) -> bool:
    """Whether a line is blank; raise if it has fewer than `width` fields."""
    fields = _count_fields(text, sep)
    if 0 < fields < width:
        raise DataError(path, f"has {fields} fields, expected {width} (truncated line or wrong "
                        "separator?)", row=line, fix=_sep_fix(path, sep, sep_key))
    return fields == 0


def _count_fields(line: str, sep: str) -> int:
    if not line.strip():
        return 0
    if len(sep) > 1:
        return len(line.split(sep))
    quoting = csv.QUOTE_MINIMAL if sep == "," else csv.QUOTE_NONE
    return len(next(csv.reader([line], delimiter=sep, quoting=quoting)))
