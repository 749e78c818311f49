"""Exceptions raised by the ml core, so callers can tell user errors from crashes."""


class ModelLoadError(Exception):
    """A folder is not a loadable model of the asked kind; the message says why in words."""


class Cancelled(Exception):
    """The progress callback asked to stop; the work done so far is discarded."""


class DeviceUnavailable(ValueError):
    """An explicitly requested device (e.g. ``cuda:1``) does not exist on this host."""


class ParamError(ValueError):
    """A job parameter is unusable; ``field`` names it (``params.rubrics.humour``), ``message`` says why."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")
