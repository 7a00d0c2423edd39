"""«Работы» for the CRM (ВЭ): the day's finished calls and visits as the rows the CRM imports (docs/exports.md).

`works` builds the rows (pure), `files` encodes them as CSV or XLSX (pure), `period` reads a range
of days (pure), `store` writes the nightly files into `exports.dir`, `export` is the shell that reads
the database and writes a day, `views` is the supervisor's page.
"""
