"""The run's log: `log.info(...)`, and the standard `logging` module sent there too."""

import logging

from ._bindings import interface


def _write(level, message):
    runtime = interface("runtime")
    runtime.log(getattr(runtime.Level, level), str(message))


class _Log:
    def trace(self, message):
        _write("TRACE", message)

    def debug(self, message):
        _write("DEBUG", message)

    def info(self, message):
        _write("INFO", message)

    def warn(self, message):
        _write("WARN", message)

    def error(self, message):
        _write("ERROR", message)


log = _Log()

_LEVELS = [
    (logging.ERROR, "ERROR"),
    (logging.WARNING, "WARN"),
    (logging.INFO, "INFO"),
    (logging.DEBUG, "DEBUG"),
]


class RunLogHandler(logging.Handler):
    """Sends `logging` records to the run's log at their level."""

    def emit(self, record):
        level = next((name for at, name in _LEVELS if record.levelno >= at), "TRACE")
        try:
            _write(level, self.format(record))
        except Exception:  # a log line never fails the run
            pass


def route_logging():
    """Routes the root logger to the run's log (once)."""
    root = logging.getLogger()
    if not any(isinstance(h, RunLogHandler) for h in root.handlers):
        root.addHandler(RunLogHandler())
        root.setLevel(logging.INFO)
