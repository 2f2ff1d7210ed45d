"""PUT-merge patches: only the fields named change (the host never sends a whole customer,
so addresses and attributes not named are kept)."""

import json
from ._bindings import interface


class Patch:
    """`patch().set("group_id", 3).custom_attribute("flagged", "1")`."""

    def __init__(self):
        self._set = []
        self._attributes = []
        self._addresses = None

    def set(self, field, value):
        """Sets a top-level field to `value` (any JSON value)."""
        self._set.append((field, json.dumps(value)))
        return self

    def custom_attribute(self, code, value):
        self._attributes.append((code, str(value)))
        return self

    def replace_addresses(self, addresses):
        """Replaces every address (the one way a patch touches them)."""
        self._addresses = list(addresses)
        return self

    def build(self):
        """The bindings' `Patch`."""
        types = interface("types")

        return types.Patch(
            set=[types.FieldValue(f, v) for f, v in self._set],
            custom_attributes=[types.CustomAttribute(c, v) for c, v in self._attributes],
            replace_addresses=self._addresses,
        )


def patch():
    return Patch()
