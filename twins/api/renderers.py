"""Response rendering: the big payloads by orjson, and CSV cells that a spreadsheet will not execute.

orjson is only for responses built from the representations (twins/representations.py), which hold
JSON-native values already (strings for uids and times), so the bytes mean the same as DRF's JSONRenderer's,
about 10× sooner.
"""
import csv

import orjson
from rest_framework.renderers import JSONRenderer

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class FastJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data)


def csv_cell(value):
    """Text that a spreadsheet would run as a formula (an asset named `=HYPERLINK(…)`) gets a leading `'`,
    which shows it as text; numbers, negative ones too, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCSVWriter:
    """csv.writer whose text cells go through csv_cell: every CSV export writes with this. Rows end with
    CRLF (RFC 4180), which also makes the writer quote a cell holding a CR: with a bare LF it would not,
    and a name with a CR in it would split its row in two."""

    def __init__(self, out):
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row):
        return self._writer.writerow([csv_cell(value) for value in row])
