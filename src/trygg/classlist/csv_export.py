"""The access-request export as a CSV file (R-LIST-04), for the API and the leader's page alike."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse

from trygg.classlist import actions, queries


def csv_response(result: actions.ExportResult, class_id: int) -> HttpResponse:
    """Return the exported lines as a CSV attachment, one line per guardian."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(queries.FIELDS)
    for line in result.lines:
        # A leading =, +, - or @ would make a spreadsheet run the cell as a formula.
        writer.writerow(["'" + v if v[:1] in ("=", "+", "-", "@") else v for v in line])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = result.export.exported_at.strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="class-{class_id}-list-{stamp}.csv"'
    return response
