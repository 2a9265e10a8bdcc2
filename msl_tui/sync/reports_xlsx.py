"""The reports as one XLSX workbook (XlsxWriter, from the headoffice extra): a sheet per
report, rows written as they stream past on their way to the CSV files.

Text is written as text, never as a formula, a link or a number, and text that would start
a formula is prefixed as in the CSV files. The workbook is written row by row
(``constant_memory``) through a private temporary file in a private folder, then swapped in
whole, 0600 like every report.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from msl_tui.locations import create_private_file, ensure_private_dir, private_temp_path

MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included
MONEY = frozenset({"amount", "total_amount"})


def available() -> bool:
    return importlib.util.find_spec("xlsxwriter") is not None


class Book:
    def __init__(self, path: Path, *, created: datetime | None = None) -> None:
        import xlsxwriter

        from msl_tui.sync.reports import safe_cell

        self._safe = safe_cell
        self.path = path
        self.tmp = private_temp_path(path)
        self.scratch = path.with_name(f".xlsx-scratch-{secrets.token_hex(6)}")
        ensure_private_dir(self.scratch)
        self._handle = create_private_file(self.tmp)
        self.rows = 0
        self._book = xlsxwriter.Workbook(
            self._handle,
            {
                "constant_memory": True,
                "tmpdir": str(self.scratch),
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        if created is not None:
            # The moment the reports describe: the same store gives the same file.
            self._book.set_properties({"created": created.replace(tzinfo=None)})
        self._bold = self._book.add_format({"bold": True})
        self._money = self._book.add_format({"num_format": "0.00"})

    def sheet(
        self, title: str, header: list[str], rows: Iterable[Sequence[Any]]
    ) -> Iterator[Sequence[Any]]:
        """Pass ``rows`` through, writing each into a new sheet on its way."""
        sheet = self._book.add_worksheet(title[:31])
        for col, name in enumerate(header):
            sheet.write_string(0, col, name, self._bold)
        sheet.freeze_panes(1, 0)
        money = {i for i, name in enumerate(header) if name in MONEY}
        row_number = 0
        left_out = 0
        for row in rows:
            yield row
            if row_number + 2 >= MAX_ROWS:
                left_out += 1
                continue
            row_number += 1
            for col, value in enumerate(row):
                self._cell(sheet, row_number, col, value, col in money)
        if left_out:
            sheet.write_string(
                row_number + 1, 0, f"{left_out} more rows: see the CSV file of this report"
            )
        sheet.autofilter(0, 0, max(row_number, 1), max(len(header) - 1, 0))
        self.rows += row_number

    def _cell(self, sheet: Any, row: int, col: int, value: Any, money: bool) -> None:
        if value is None or value == "":
            return
        if isinstance(value, bool):
            sheet.write_string(row, col, "yes" if value else "no")
        elif isinstance(value, int | float | Decimal):
            sheet.write_number(row, col, float(value), self._money if money else None)
        elif money:
            try:
                sheet.write_number(row, col, float(Decimal(str(value))), self._money)
            except (InvalidOperation, ValueError):
                sheet.write_string(row, col, self._safe(str(value)))
        else:
            sheet.write_string(row, col, self._safe(str(value)))

    def finish(self) -> int:
        """Finish the workbook in its temporary file (``tmp``); the caller puts it in place
        with the other reports. The number of data rows written."""
        from xlsxwriter.exceptions import FileCreateError

        try:
            try:
                self._book.close()
            except FileCreateError as exc:
                # XlsxWriter wraps the OSError (a full disk) in its own error, which the
                # CLI did not know ("unexpected FileCreateError"), and leaves its zip
                # half-closed: disarmed, or its __del__ prints a traceback at exit.
                _disarm_zips(exc)
                cause = exc.args[0] if exc.args else None
                if isinstance(cause, OSError):
                    raise cause from None
                raise OSError(str(exc)) from None
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        except BaseException:
            self.abort()
            raise
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
        return self.rows

    def abort(self) -> None:
        self._handle.close()
        self.tmp.unlink(missing_ok=True)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _disarm_zips(exc: BaseException) -> None:
    """A ZipFile a failed workbook close left open in the traceback's frames is told it
    has no file (its close then does nothing): the workbook is discarded anyway."""
    import zipfile

    # The zip is a local of the frame that raised the OSError XlsxWriter wrapped.
    for error in (exc, exc.__context__, *exc.args):
        tb = error.__traceback__ if isinstance(error, BaseException) else None
        while tb is not None:
            for value in tb.tb_frame.f_locals.values():
                if isinstance(value, zipfile.ZipFile):
                    value.fp = None
            tb = tb.tb_next
