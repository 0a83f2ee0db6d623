"""The one interface every source implements, plus the parsing helpers readers share.

A `Source` knows where its file is, which raw tables it fills and how to read them into polars frames
with exactly the columns and types of `schema.RAW_TABLES`. Reading is strict: a file that cannot be
understood (bad syntax, a missing column, a value of the wrong type) raises `InputError` naming the
file, the line and the field. Rule checks on readable values (keys, ranges, references) are not the
reader's job: `releasepilot.quality` does them and rejected rows are kept with their reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import polars as pl

from releasepilot.errors import InputError
from releasepilot.sources.schema import RAW_TABLES, TS

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%z"
TIMESTAMP_EXPECTED = "an ISO 8601 timestamp such as 2025-03-04T10:15:00+01:00"
CSV_FIRST_DATA_LINE = 2   # line 1 holds the header


class Source(ABC):
    """A source of release history: one file (or folder) that fills one or more raw tables."""

    #: Short label used in reports, e.g. "deployments.csv".
    name: str
    #: The raw tables `read()` returns, keyed by table name.
    tables: tuple[str, ...]

    def __init__(self, path: Path):
        self.path = Path(path)

    def available(self) -> bool:
        """Whether the file is there (absent sources are skipped, not an error)."""
        return self.path.exists()

    @abstractmethod
    def read(self) -> dict[str, pl.DataFrame]:
        """Read the file into one frame per raw table; raise `InputError` when it cannot be understood."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"


def read_csv_strings(path: Path, required: Iterable[str]) -> pl.DataFrame:
    """Read a CSV file with every column as text; check the header has the `required` columns."""
    try:
        frame = pl.read_csv(path, infer_schema=False, raise_if_empty=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file ({exc})", source=str(path)) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected header with {', '.join(required)}",
            source=str(path), field=missing[0])
    return frame.select(list(required)).with_columns(pl.all().str.strip_chars().replace("", None))


def _normalise_timestamp_text(column: pl.Expr) -> pl.Expr:
    """Accept `Z`, a space instead of `T`, and no offset (read as UTC)."""
    text = column.str.strip_chars().str.replace(" ", "T").str.replace(r"Z$", "+00:00")
    return pl.when(text.str.contains(r"[+-]\d\d:?\d\d$")).then(text).otherwise(text + "+00:00")


def _to_utc(text: pl.Expr) -> pl.Expr:
    return (text.str.to_datetime(TIMESTAMP_FORMAT, time_zone="UTC", strict=False)
            .dt.replace_time_zone(None).cast(TS))


def parse_timestamp_columns(frame: pl.DataFrame, columns: Iterable[str], *, source: Path | str,
                            first_line: int = CSV_FIRST_DATA_LINE) -> pl.DataFrame:
    """Parse text timestamps (with or without offsets) into naive UTC `Datetime("us")` columns.

    Empty values become null; any other value that does not parse raises `InputError` with its line.
    """
    columns = list(columns)
    # The canonical form (`T`, an offset) parses as is; a column with other forms (`Z`, a space, no
    # offset) is parsed again after normalising, which costs a few regex passes.
    parsed = frame.with_columns(_to_utc(pl.col(c).cast(pl.String)).alias(c) for c in columns)
    redo = [c for c in columns if (frame[c].is_not_null() & parsed[c].is_null()).any()]
    if redo:
        parsed = parsed.with_columns(_to_utc(_normalise_timestamp_text(frame[c].cast(pl.String))).alias(c)
                                     for c in redo)
    for c in columns:
        _raise_on_failed_cast(frame[c], parsed[c], c, TIMESTAMP_EXPECTED, source, first_line)
    return parsed


def parse_int_columns(frame: pl.DataFrame, columns: Iterable[str], *, source: Path | str,
                      first_line: int = CSV_FIRST_DATA_LINE) -> pl.DataFrame:
    """Parse text integers into `Int64`; empty values become null, other bad values raise `InputError`."""
    columns = list(columns)
    parsed = frame.with_columns(pl.col(c).cast(pl.Int64, strict=False) for c in columns)
    for c in columns:
        _raise_on_failed_cast(frame[c], parsed[c], c, "a whole number", source, first_line)
    return parsed


def _raise_on_failed_cast(before: pl.Series, after: pl.Series, column: str, expected: str,
                          source: Path | str, first_line: int) -> None:
    failed = (before.is_not_null() & after.is_null()).arg_true()
    if failed.len():
        index = int(failed[0])
        raise InputError(f"expected {expected}, got {before[index]!r}", source=str(source),
                         row=index + first_line, field=column)


def require_values(frame: pl.DataFrame, columns: Iterable[str], *, source: Path | str,
                   first_line: int = CSV_FIRST_DATA_LINE, names: dict[str, str] | None = None) -> None:
    """Raise `InputError` at the first row whose key field is empty: a row without a key cannot be kept."""
    for c in columns:
        empty = frame[c].is_null().arg_true()
        if empty.len():
            field = (names or {}).get(c, c)
            raise InputError("missing value: this key field must not be empty", source=str(source),
                             row=int(empty[0]) + first_line, field=field)


def conform(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Select the raw table's columns in order, cast to its types (columns must already be parsed)."""
    spec = RAW_TABLES[table]
    return frame.select(pl.col(c).cast(t) for c, t in spec.columns.items())


class CsvSource(Source):
    """A source that is one CSV file filling one raw table with the same column names."""

    filename: str
    table: str
    timestamps: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()

    def __init__(self, path: Path):
        super().__init__(path)
        self.name = self.filename
        self.tables = (self.table,)

    @classmethod
    def in_folder(cls, folder: Path) -> CsvSource:
        return cls(Path(folder) / cls.filename)

    def columns(self) -> list[str]:
        """Header columns this file must have (default: the raw table's columns)."""
        return list(RAW_TABLES[self.table].columns)

    def transform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Turn the text columns into the raw table's columns (override for renames)."""
        return frame

    #: Raw column name -> header name, for messages about renamed columns.
    header_names: ClassVar[dict[str, str]] = {}

    def read(self) -> dict[str, pl.DataFrame]:
        frame = read_csv_strings(self.path, self.columns())
        frame = parse_timestamp_columns(frame, self.timestamps, source=self.path)
        frame = parse_int_columns(frame, self.integers, source=self.path)
        frame = conform(self.transform(frame), self.table)
        require_values(frame, RAW_TABLES[self.table].key, source=self.path, names=self.header_names)
        return {self.table: frame}
