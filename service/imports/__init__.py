"""Imports of CRM exports (`dsdesk import KIND FILE`): CSV or XLSX → validated records → database.

    limits.py      what a file may cost: sizes, rows, columns, cell length, XLSX parts (pure)
    readers.py     a file → its header and numbered rows (CSV encodings/delimiters, XLSX)
    xlsx_guard.py  an XLSX's ZIP and XML checked against the limits before openpyxl opens it
    cells.py       one cell → a typed value or a reason why not (pure)
    schemas.py     per kind: the exact columns, which are required, how each is read (pure)
    month_cells.py the month's imports' cells: kinds by Russian name, months, plan values (pure)
    validation.py  rows → records or RowErrors: cells, duplicates, references (pure)
    writers.py     references read from, and records written through, the repositories
    runner.py      validate every row first; only then write, in one transaction, in batches
"""
