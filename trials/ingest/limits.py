"""How much an upload may hold, and the error a file that cannot be read as a table gets.

Every cap is checked while the file is read, before anything is held whole: a file is
refused at the first row, cell or line over its cap, with a message naming the file, the
cap and what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from trials.domain import UserError

__all__ = ["ImportLimits", "TableError", "quote"]

# What an error message shows of a cell at most (the rest becomes "…").
QUOTE_CHARS = 80


class TableError(UserError):
    """A file that cannot be read as a table at all."""


def quote(value: object) -> str:
    """A cell for an error message: its first 80 characters, "…" when it is longer."""
    text = str(value)
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "…"


@dataclass(frozen=True)
class ImportLimits:
    """How big an upload may be. ``from_env`` reads ``TRIALS_MAX_UPLOAD_MB``,
    ``TRIALS_MAX_ROWS`` and ``TRIALS_MAX_CELLS``.

    ``max_cells`` counts the table as it is held: rows × the widest row (a workbook may
    hold a quarter as many, ``max_sheet_cells``). ``max_record_chars``
    bounds one line (or quoted multi-line record) of a text file and one piece of a
    workbook's XML; ``max_markup`` bounds the XML tags of one workbook part, counted before
    it is parsed, and ``max_elements`` the elements parsed in all.
    """

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 200_000
    # An XLSX is a zip; a small file can inflate to gigabytes ("zip bomb").
    max_inflated_bytes: int = 500 * 1024 * 1024
    max_inflation_ratio: int = 200
    max_cell_chars: int = 32_767  # Excel's own limit for one cell
    max_cells: int = 2_000_000
    max_columns: int = 16_384  # Excel's own limit (column XFD)
    max_record_chars: int = 1_000_000
    max_zip_members: int = 10_000

    @property
    def max_sheet_cells(self) -> int:
        """A workbook's cap: a quarter of the text cap. A workbook's XML is read element by
        element in Python (about 3 µs a cell), a text file by the csv module in C."""
        return self.max_cells // 4

    @property
    def max_markup(self) -> int:
        """The most tags one part of a workbook may have (a cell is <c><v></v></c>)."""
        return 5 * self.max_sheet_cells + 2 * self.max_rows + 100_000

    @property
    def max_elements(self) -> int:
        """The most XML elements parsed for one workbook: a sheet and its text."""
        return 2 * (2 * self.max_sheet_cells + self.max_rows) + 100_000

    @classmethod
    def from_env(cls) -> ImportLimits:
        out = cls()
        mb = _env_number("TRIALS_MAX_UPLOAD_MB", float)
        if mb is not None:
            out = replace(out, max_bytes=int(mb * 1024 * 1024))
        rows = _env_number("TRIALS_MAX_ROWS", int)
        if rows is not None:
            out = replace(out, max_rows=rows)
        cells = _env_number("TRIALS_MAX_CELLS", int)
        if cells is not None:
            out = replace(out, max_cells=cells)
        return out


def _env_number(name: str, kind: type) -> float | int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise UserError(f"{name}={quote(text)} is not a number; set it to e.g. 100") from None
    if value <= 0:
        raise UserError(f"{name} must be above 0")
    return value
