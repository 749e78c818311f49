"""Model instances from the rows of hand-written SQL, converted exactly as the ORM converts them.

The write paths read rows back with RETURNING and joins the ORM cannot express in one statement; each database
hands columns back in its own shapes (SQLite: naive datetimes and 0/1 for booleans; both: JSON as text), and the
backend's and the field's converters, the ones a queryset would run, turn them into what the model holds.
"""

from datetime import datetime

from django.db import connection


def quoted(name: str) -> str:
    """A table or column name quoted for the database in use."""
    return connection.ops.quote_name(name)


def table_name(model) -> str:
    return quoted(model._meta.db_table)


def db_datetime(value: datetime | None):
    """A datetime as the database column takes it (SQLite stores naive UTC text, PostgreSQL takes it as it is)."""
    return connection.ops.adapt_datetimefield_value(value)


def values_converted(fields: list, values) -> list:
    """``values`` (one per field, in order) as a queryset would hand them to the model."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        if value is not None:
            column = field.cached_col
            for converter in (*connection.ops.get_db_converters(column), *field.get_db_converters(connection)):
                value = converter(value, column, connection)
        converted.append(value)
    return converted


def instance_from_row(model, fields: list, values):
    """A ``model`` instance loaded from these columns, as the ORM would load it (so it may be saved like any
    other); fields left out are deferred."""
    return model.from_db(connection.alias, [field.attname for field in fields], values_converted(fields, values))
