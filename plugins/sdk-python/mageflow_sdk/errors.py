"""Magento's refusals as exceptions. The host answers a failed call with a `magento-error`
variant (componentize-py raises it as `Err(variant)`); `call` turns it into one of these."""

import json


class MagentoError(Exception):
    """A Magento call did not do what was asked."""

    def __init__(self, message, status=None, template=None, parameters=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.template = template
        self.parameters = parameters or {}


class BadRequest(MagentoError):
    """Magento refused the request (400): the message says why."""


class NotFound(MagentoError):
    """No such entity (404)."""


class Unauthorized(MagentoError):
    """The host's Magento credentials were refused."""


class Denied(MagentoError):
    """The workflow's grants or policy do not allow the call."""


class Unavailable(MagentoError):
    """Magento could not be reached, or kept failing."""


class Invalid(MagentoError):
    """The arguments were refused before reaching Magento."""


_KINDS = {
    "BadRequest": BadRequest,
    "NotFound": NotFound,
    "Unauthorized": Unauthorized,
    "Denied": Denied,
    "Unavailable": Unavailable,
    "Invalid": Invalid,
}


def from_variant(error):
    """The exception for a `magento-error` variant (`MagentoError_NotFound(value=...)`)."""
    kind = type(error).__name__.split("_", 1)[-1]
    cls = _KINDS.get(kind, MagentoError)
    value = getattr(error, "value", error)
    if hasattr(value, "message"):
        params = json.loads(value.parameters_json) if value.parameters_json else {}
        return cls(value.message, value.status, value.template, params)
    return cls(str(value))


def call(fn, *args):
    """Calls a binding, raising a `MagentoError` subclass for a refusal."""
    from componentize_py_types import Err

    try:
        return fn(*args)
    except Err as e:
        raise from_variant(e.value) from None
