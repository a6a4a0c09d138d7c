"""Cells for CSV files that people open in spreadsheets."""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these runs as a formula in Excel, LibreOffice or Google Sheets (OWASP)."""


def defuse(cell: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, quoted with a leading ' (numbers stay numbers)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return "" if cell is None else cell
