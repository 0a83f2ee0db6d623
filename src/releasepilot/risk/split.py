"""Time-ordered splits: train on the past, validate on the most recent window, never a random split.

A row may train a model only if it happened before the cutoff AND its label was known by then
(a release that failed after the cutoff was not known to have failed at the cutoff). Expanding-window
folds give out-of-time scores for stacking: every block is scored by a model fitted on earlier blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from releasepilot.errors import InputError


@dataclass(frozen=True)
class TimeSplit:
    """Rows before the cutoff (with labels known by then) and rows from the cutoff on."""

    train: pl.DataFrame
    valid: pl.DataFrame
    cutoff: datetime


def labelled(frame: pl.DataFrame, target: str) -> pl.DataFrame:
    """Rows whose outcome is known (pending rows have a null label)."""
    return frame.filter(pl.col(target).is_not_null())


def time_cutoff(times: pl.Series, fraction_after: float) -> datetime:
    """The time that leaves `fraction_after` of the rows at or after it."""
    clean = times.drop_nulls().sort()
    if clean.len() < 2:
        raise InputError(f"need at least 2 timed rows to split, got {clean.len()}", field=times.name)
    index = min(max(round(clean.len() * (1 - fraction_after)), 1), clean.len() - 1)
    return clean[index]


def known_before(frame: pl.DataFrame, time_col: str, cutoff: datetime,
                 label_known_col: str | None) -> pl.DataFrame:
    """Rows that happened before `cutoff` and whose label was known by then."""
    keep = pl.col(time_col) < cutoff
    if label_known_col and label_known_col in frame.columns:
        keep = keep & (pl.col(label_known_col).is_null() | (pl.col(label_known_col) <= cutoff))
    return frame.filter(keep)


def time_split(frame: pl.DataFrame, *, time_col: str, target: str, validation_fraction: float,
               label_known_col: str | None = None) -> TimeSplit:
    """Split labelled rows by time: the newest `validation_fraction` validates, the past trains."""
    if time_col not in frame.columns:
        raise InputError(f"missing time column; found {sorted(frame.columns)}", field=time_col)
    rows = labelled(frame, target).filter(pl.col(time_col).is_not_null()).sort(time_col)
    cutoff = time_cutoff(rows[time_col], validation_fraction)
    train = known_before(rows, time_col, cutoff, label_known_col)
    valid = rows.filter(pl.col(time_col) >= cutoff)
    if train.height == 0 or valid.height == 0:
        raise InputError(f"time split left an empty side (train {train.height}, valid {valid.height})",
                         field=time_col)
    return TimeSplit(train=train, valid=valid, cutoff=cutoff)


def expanding_folds(times: pl.Series, n_folds: int) -> list[tuple[datetime | None, datetime | None]]:
    """Time blocks [start, end) of equal row counts; block 0 starts at None, the last ends at None.

    Block k (k >= 1) is scored by a model trained on everything before its start.
    """
    clean = times.drop_nulls().sort()
    if clean.len() < n_folds + 1:
        raise InputError(f"need more than {n_folds} timed rows for {n_folds} folds", field=times.name)
    edges = [clean[int(clean.len() * k / (n_folds + 1))] for k in range(1, n_folds + 1)]
    starts: list[datetime | None] = [None, *edges]
    ends: list[datetime | None] = [*edges, None]
    return list(zip(starts, ends, strict=True))


def in_block(frame: pl.DataFrame, time_col: str, start: datetime | None, end: datetime | None) -> pl.DataFrame:
    """Rows with start <= time < end (open ends where None)."""
    keep = pl.lit(True)
    if start is not None:
        keep = keep & (pl.col(time_col) >= start)
    if end is not None:
        keep = keep & (pl.col(time_col) < end)
    return frame.filter(keep)


def calibration_holdout(train: pl.DataFrame, *, time_col: str, fraction: float,
                        label_known_col: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split the training part again by time: (fit on the older rows, calibrate on the newest)."""
    rows = train.sort(time_col)
    cutoff = time_cutoff(rows[time_col], fraction)
    fit = known_before(rows, time_col, cutoff, label_known_col)
    calib = rows.filter(pl.col(time_col) >= cutoff)
    return fit, calib

