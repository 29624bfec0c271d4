"""Tables out as CSV or XLSX files, the same columns the page shows.

CSV is written with a byte-order mark, so Excel on a Chinese Windows opens it as UTF-8 instead
of mangling the names; money goes out as yuan with two decimals in text (CSV) and as a number
with a 0.00 format (XLSX), never as a float computed from a float.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal

from flask import Response

Cell = str | int | Decimal


def money(fen: int) -> Decimal:
    return Decimal(int(fen)) / 100


def send(kind: str, name: str, header: Sequence[str], body: Sequence[Sequence[Cell]]) -> Response:
    """``kind`` is csv or xlsx; ``name`` the file name without extension."""
    if kind == "xlsx":
        data = xlsx_bytes(name, header, body)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        data = csv_bytes(header, body)
        mime = "text/csv; charset=utf-8"
    response = Response(data, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


def csv_bytes(header: Sequence[str], body: Sequence[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for line in body:
        writer.writerow([f"{c:.2f}" if isinstance(c, Decimal) else c for c in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, header: Sequence[str], body: Sequence[Sequence[Cell]]) -> bytes:
    from openpyxl import Workbook  # only an export pays for importing it

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(header))
    for line in body:
        sheet.append(list(line))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
