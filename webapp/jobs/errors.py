"""The two ways a job's work stops short, shared by the kernel and the runners the apps register."""

from __future__ import annotations


class JobError(ValueError):
    """A job cannot be launched or changed as asked, or its input is unusable (the job then fails with
    this reason, never retried). ``field`` names what was wrong (``params.seed``, ``project``; empty
    when it is no one field), ``message`` says why; ``str()`` is ``"field: message"``."""

    def __init__(self, message: str, *, field: str = ""):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}" if field else message)

    @property
    def top_field(self) -> str:
        """The launch field the error belongs to: ``params`` for ``params.rubrics.humour``."""
        return self.field.split(".", 1)[0]

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class Cancelled(Exception):
    """The job must stop between batches: cancellation was requested, or another worker took it over."""


def number_clean(name: str, value, cast: type, low: float, high: float) -> int | float:
    """``value`` as a ``cast`` from ``low`` to ``high``; ``JobError`` naming ``params.<name>`` otherwise."""
    import math

    try:
        number = cast(value)
    except (TypeError, ValueError) as exc:
        raise JobError(f"{value!r} is not a number", field=f"params.{name}") from exc
    if isinstance(number, float) and not math.isfinite(number) or not low <= number <= high:
        raise JobError(f"must be between {low} and {high}", field=f"params.{name}")
    return number
