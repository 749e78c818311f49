"""Data plumbing the apps share, importing no app: the one place lock clauses differ between PostgreSQL and SQLite
(``row_locks``), rows read by hand SQL turned into model instances (``raw_rows``), text no column can hold
(``unstorable``) and CSV cells a spreadsheet would run (``csvsafe``)."""
