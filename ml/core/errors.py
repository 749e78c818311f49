"""Exceptions raised by the ml core, so callers can tell user errors from crashes."""


class ModelLoadError(Exception):
    """A folder is not a loadable model of the asked kind; the message says why in words."""


class Cancelled(Exception):
    """The progress callback asked to stop; the work done so far is discarded."""


class DeviceUnavailable(ValueError):
    """An explicitly requested device (e.g. ``cuda:1``) does not exist on this host."""
