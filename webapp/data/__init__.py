"""Data plumbing the apps share, importing no app: the two places the write paths' SQL differs between PostgreSQL
and SQLite, lock clauses (``row_locks``) and dependent writes joined into one statement or run in order
(``statements``); rows read by hand SQL turned into model instances (``raw_rows``), text no column can hold
(``unstorable``) and CSV cells a spreadsheet would run (``csvsafe``)."""
