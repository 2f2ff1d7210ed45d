"""Loads the bindings while the plugin is being built. componentize-py snapshots the
interpreter after importing the app, and a plugin has no files at run time: a module not
imported by then cannot be imported later. So every interface the plugin's world has is
imported here, once; those its grants left out are simply absent."""

import importlib

INTERFACES = ["types", "customers", "groups", "admin_users", "bulk", "approvals", "runtime"]


def preload():
    for name in ["componentize_py_types", "wit_world"] + [f"wit_world.imports.{i}" for i in INTERFACES]:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # not in this plugin's world (or, natively, before the test fake is set up)


preload()

_GRANTS = {
    "customers": "customers:read",
    "groups": "customers:read",
    "admin_users": "admin-users:read",
    "bulk": "bulk",
    "approvals": "approvals",
}


def interface(name):
    """The bindings of one interface; `Denied` naming the grant when the plugin was built
    without it."""
    try:
        return importlib.import_module(f"wit_world.imports.{name}")
    except ImportError:
        from .errors import Denied

        grant = _GRANTS.get(name)
        raise Denied(
            f"this plugin was built without the {name.replace('_', '-')} interface: add "
            f"{grant} to its grants (workflow.toml or --grants) and build it again"
        ) from None
