"""mageflow's Python SDK: what a workflow plugin needs beside the WIT bindings.

    import mageflow_sdk as mf

    @mf.workflow
    def run(trigger):
        moved = 0
        for page in mf.customer_pages(mf.search().where("group_id", "eq", 1)):
            ...
        return mf.outcome(f"moved {moved} customers")

    WitWorld = run  # componentize-py looks for `WitWorld` in app.py

Every Magento call that fails raises a `MagentoError` subclass (`NotFound`, `BadRequest`,
...); an uncaught exception fails the run with its message first and its traceback after.
`print` and `logging` reach the run's log. `mageflow_sdk.testing.Fake` stands in for the host
in native tests (pytest).
"""

from . import _bindings  # noqa: F401  (first: loads the bindings at build time)
from .approvals import Approval, request_approval
from .errors import (
    BadRequest,
    Denied,
    Invalid,
    MagentoError,
    NotFound,
    Unauthorized,
    Unavailable,
    call,
)
from .logs import log
from .patch import Patch, patch
from .search import Search, all_customers, customer_pages, search
from .world import outcome, workflow

__all__ = [
    "Approval",
    "BadRequest",
    "Denied",
    "Invalid",
    "MagentoError",
    "NotFound",
    "Patch",
    "Search",
    "Unauthorized",
    "Unavailable",
    "all_customers",
    "call",
    "customer_pages",
    "log",
    "outcome",
    "patch",
    "request_approval",
    "search",
    "workflow",
]
