"""The run wrapper: `@workflow` turns a function of the trigger into componentize-py's
`WitWorld` class, where an uncaught exception fails the run with its message first and its
traceback after (instead of a wasm trap)."""

import json
import traceback

from ._bindings import interface
from .errors import MagentoError
from .logs import route_logging


def outcome(summary, output=None):
    """A run's outcome: a one-line summary, and any JSON value as its output."""
    types = interface("types")

    return types.Outcome(
        summary=summary, output_json=None if output is None else json.dumps(output)
    )


def failure_message(exc):
    """The run's error for an uncaught exception: what went wrong, then where."""
    if isinstance(exc, MagentoError):
        head = f"{type(exc).__name__}: {exc.message}"
    else:
        head = f"{type(exc).__name__}: {exc}"
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{head}\n{trace}"


def workflow(fn):
    """`@workflow def run(trigger): ...` returning `outcome(...)` (or a summary string)."""
    import wit_world
    from componentize_py_types import Err

    class WitWorld(wit_world.WitWorld):
        def run(self, trigger):
            route_logging()
            try:
                result = fn(trigger)
            except Err:
                raise
            except Exception as exc:  # every uncaught exception fails the run, readably
                raise Err(failure_message(exc)) from None
            if isinstance(result, str):
                return outcome(result)
            return result

    WitWorld.__doc__ = fn.__doc__
    return WitWorld
