"""A fake host for native tests (pytest), like the Rust SDK's `testing::Fake`: customers,
groups, admin users, bulk, approvals and runtime kept in memory, answering with Magento's
own error texts; searches filter, sort and page like Magento (300 at most a page, and a page
past the end answered with the last page again).

    from mageflow_sdk.testing import Fake, customer, manual

    def test_moves_everyone():
        fake = Fake().with_customers(customer(i, f"c{i}@example.com") for i in range(1, 701))
        result = fake.run(app.WitWorld, manual("1"))
        assert result.summary == "moved 700 customers"
"""

import fnmatch
import importlib
import json
import os
import sys

_STUBS = os.path.join(os.path.dirname(__file__), "_stubs")
# Natively, `import wit_world` finds the stubs (an app's module imports it at load).
if _STUBS not in sys.path:
    sys.path.insert(0, _STUBS)

from componentize_py_types import Err  # noqa: E402  (what a failed run raises)


def bindings():
    """The bindings' modules (`types`, `customers`, ...), importable natively: the stubs
    componentize-py generates, shipped with this package."""
    if _STUBS not in sys.path:
        sys.path.insert(0, _STUBS)
    names = ["types", "customers", "groups", "admin_users", "bulk", "approvals", "runtime"]
    return {n: importlib.import_module(f"wit_world.imports.{n}") for n in names}


def _types():
    return bindings()["types"]


def customer(id, email, group_id=1, website_id=1, firstname="Test", lastname="Customer", **extra):
    t = _types()
    return t.Customer(
        id=id,
        email=email,
        firstname=firstname,
        lastname=lastname,
        group_id=group_id,
        website_id=website_id,
        store_id=1,
        created_at="2026-01-01 00:00:00",
        updated_at="2026-01-01 00:00:00",
        addresses=extra.get("addresses", []),
        custom_attributes=extra.get("custom_attributes", []),
        extra_json="{}",
    )


def admin_user(id, username, email, role_id=1, is_active=True):
    return _types().AdminUser(
        id=id,
        username=username,
        firstname="Test",
        lastname="Admin",
        email=email,
        is_active=is_active,
        role_id=role_id,
    )


def manual(text):
    """A manual trigger with this input."""
    return _types().Trigger_Manual(text)


def _err(variant):
    return Err(variant)


def not_found(field, value):
    t = _types()
    return _err(
        t.MagentoError_NotFound(
            t.Refusal(
                status=404,
                message=f"No such entity with {field} = {value}",
                template="No such entity with %fieldName = %fieldValue",
                parameters_json=json.dumps({"fieldName": field, "fieldValue": str(value)}),
            )
        )
    )


def bad_request(message, template=None):
    t = _types()
    return _err(
        t.MagentoError_BadRequest(
            t.Refusal(status=400, message=message, template=template or message, parameters_json=None)
        )
    )


_FIELDS = {"entity_id": "id", "id": "id"}


def _value(record, field):
    attr = _FIELDS.get(field, field)
    if hasattr(record, attr):
        return getattr(record, attr)
    for a in getattr(record, "custom_attributes", []):
        if a.code == field:
            return a.value
    raise bad_request(f"Invalid attribute name: {field}", "Invalid attribute name: %1")


def _matches(record, f):
    have = _value(record, f.field)
    c = f.condition.name.lower()
    text = "" if have is None else str(have)
    want = f.value

    def num(x):
        try:
            return float(x)
        except (TypeError, ValueError):
            return x

    if c == "eq":
        return text == want
    if c == "neq":
        return text != want
    if c in ("in", "nin"):
        inside = text in [w.strip() for w in want.split(",")]
        return inside if c == "in" else not inside
    if c in ("like", "nlike"):
        hit = fnmatch.fnmatchcase(text.lower(), want.lower().replace("%", "*").replace("_", "?"))
        return hit if c == "like" else not hit
    if c == "null":
        return have in (None, "")
    if c == "notnull":
        return have not in (None, "")
    a, b = num(text), num(want)
    return {
        "gt": a > b,
        "lt": a < b,
        "gteq": a >= b,
        "lteq": a <= b,
        "moreq": a >= b,
        "from": a >= b,
        "to": a <= b,
    }.get(c, False)


def _search(records, criteria):
    hits = [
        r for r in records if all(any(_matches(r, f) for f in group) for group in criteria.groups)
    ]
    for s in reversed(criteria.sort):
        hits.sort(key=lambda r: _value(r, s.field), reverse=s.descending)
    total = len(hits)
    size = min(criteria.page_size or 300, 300)
    page = max(criteria.current_page or 1, 1)
    last = max((total + size - 1) // size, 1)
    page = min(page, last)  # Magento answers a page past the end with the last page again
    return hits[(page - 1) * size : page * size], total


class Fake:
    """The host, in memory. Configure it, then `run(WitWorld, trigger)`; read back
    `customers`, `admin_users`, `approvals`, `log`, `calls` and `state`."""

    def __init__(self):
        t = _types()
        self.customers = {}
        self.admin_users = {}
        self.groups = [t.Group(0, "NOT LOGGED IN"), t.Group(1, "General"), t.Group(2, "Wholesale"), t.Group(3, "Retailer")]
        self.roles = [t.Role(1, "Administrators")]
        self.bulks = {}
        self.decision = None
        self.approvals = []
        self.log = []
        self.config = {}
        self.state = {}
        self.now = 1_767_225_600
        self.calls = []

    def with_customers(self, customers):
        for c in customers:
            self.customers[c.id] = c
        return self

    def with_admin_users(self, users):
        for u in users:
            self.admin_users[u.id] = u
        return self

    def with_config(self, key, value):
        self.config[key] = value
        return self

    def deciding(self, approved_by=None, rejected=None, expired=False):
        """How approval requests are answered: approved by a name, rejected as (by, reason),
        or expired."""
        self.decision = (approved_by, rejected, expired)
        return self

    # The interfaces, as the host answers them.

    def _customers(self):
        fake = self

        def search(criteria):
            fake.calls.append("customers.search")
            items, total = _search(list(fake.customers.values()), criteria)
            return _types().CustomerPage(items=items, total_count=total)

        def get(id):
            fake.calls.append("customers.get")
            if id not in fake.customers:
                raise not_found("customerId", id)
            return fake.customers[id]

        def find_by_email(email, website_id):
            fake.calls.append("customers.find-by-email")
            for c in fake.customers.values():
                if c.email.lower() == email.lower() and website_id in (None, c.website_id):
                    return c
            return None

        def create(new, password):
            fake.calls.append("customers.create")
            website = new.website_id or 1
            if any(c.email.lower() == new.email.lower() and c.website_id == website for c in fake.customers.values()):
                raise bad_request("A customer with the same email address already exists in an associated website.")
            id = max(fake.customers, default=0) + 1
            made = customer(id, new.email, new.group_id or 1, website, new.firstname, new.lastname)
            fake.customers[id] = made
            return made

        def update(id, patch):
            fake.calls.append("customers.update")
            if id not in fake.customers:
                raise not_found("customerId", id)
            fake.customers[id] = _merge(fake.customers[id], patch)
            return fake.customers[id]

        def delete(id):
            fake.calls.append("customers.delete")
            if fake.customers.pop(id, None) is None:
                raise not_found("customerId", id)

        return dict(search=search, get=get, find_by_email=find_by_email, create=create, update=update, delete=delete)

    def _groups(self):
        fake = self

        def list_():
            fake.calls.append("groups.list")
            return list(fake.groups)

        return {"list": list_}

    def _admin_users(self):
        fake = self

        def search(criteria):
            fake.calls.append("admin-users.search")
            return _search(list(fake.admin_users.values()), criteria)[0]

        def get(id):
            fake.calls.append("admin-users.get")
            if id not in fake.admin_users:
                raise not_found("userId", id)
            return fake.admin_users[id]

        def find_by_email(email):
            fake.calls.append("admin-users.find-by-email")
            return next((u for u in fake.admin_users.values() if u.email.lower() == email.lower()), None)

        def create(new, password):
            fake.calls.append("admin-users.create")
            if any(u.username == new.username or u.email.lower() == new.email.lower() for u in fake.admin_users.values()):
                raise bad_request("A user with the same user name or email already exists.")
            id = max(fake.admin_users, default=0) + 1
            fake.admin_users[id] = admin_user(id, new.username, new.email, new.role_id)
            return fake.admin_users[id]

        def update(id, patch):
            fake.calls.append("admin-users.update")
            if id not in fake.admin_users:
                raise not_found("userId", id)
            fake.admin_users[id] = _merge(fake.admin_users[id], patch)
            return fake.admin_users[id]

        def deactivate(id):
            fake.calls.append("admin-users.deactivate")
            if id not in fake.admin_users:
                raise not_found("userId", id)
            fake.admin_users[id].is_active = False
            return fake.admin_users[id]

        def delete(id):
            fake.calls.append("admin-users.delete")
            if fake.admin_users.pop(id, None) is None:
                raise not_found("userId", id)

        def roles():
            fake.calls.append("admin-users.roles")
            return list(fake.roles)

        return dict(search=search, get=get, find_by_email=find_by_email, create=create, update=update, deactivate=deactivate, delete=delete, roles=roles)

    def _bulk(self):
        fake = self
        t = _types()

        def submit_updates(updates):
            fake.calls.append("bulk.submit-updates")
            receipts = []
            for start in range(0, len(updates), 200):
                chunk = updates[start : start + 200]
                uuid = f"bulk-{len(fake.bulks) + 1}"
                ops = []
                for i, (id, patch) in enumerate(chunk):
                    if id in fake.customers:
                        fake.customers[id] = _merge(fake.customers[id], patch)
                        ops.append(t.BulkOperation(i, t.OperationStatus.COMPLETE, None))
                    else:
                        ops.append(t.BulkOperation(i, t.OperationStatus.FAILED, f"No such entity with customerId = {id}"))
                fake.bulks[uuid] = t.BulkStatus(uuid, ops)
                receipts.append(t.BulkReceipt(uuid, len(chunk)))
            return receipts

        def status(uuid):
            fake.calls.append("bulk.status")
            if uuid not in fake.bulks:
                raise _err(t.MagentoError_NotFound(t.Refusal(404, f"Bulk uuid {uuid} not exist", "Bulk uuid %bulkUuid not exist", None)))
            return fake.bulks[uuid]

        def wait(uuids, stall_after_secs):
            fake.calls.append("bulk.wait")
            return [status(u) for u in uuids]

        return dict(submit_updates=submit_updates, status=status, wait=wait)

    def _approvals(self):
        fake = self
        a = bindings()["approvals"]

        def request(req):
            fake.calls.append("approvals.request")
            fake.approvals.append(req)
            if fake.decision is None:
                raise AssertionError(
                    "the plugin asked for an approval and the fake has no decision: call "
                    "Fake().deciding(approved_by=...), (rejected=(by, reason)) or (expired=True)"
                )
            by, rejected, expired = fake.decision
            if expired:
                return a.Decision_Expired()
            if rejected:
                return a.Decision_Rejected(tuple(rejected))
            return a.Decision_Approved(by)

        return {"request": request}

    def _runtime(self):
        fake = self

        def log(level, message):
            fake.log.append(f"{level.name.lower()}: {message}")

        return dict(
            log=log,
            now=lambda: fake.now,
            config=lambda key: fake.config.get(key),
            state_get=lambda key: fake.state.get(key),
            state_set=lambda key, value: fake.state.__setitem__(key, value),
        )

    def installed(self):
        """The bindings' functions answered by this fake, for a `with` block."""
        return _Installed(self)

    def run(self, world, trigger):
        """Runs `world` (the `WitWorld` class of an app) for `trigger`: its outcome, or
        `componentize_py_types.Err` raised with the run's error."""
        with self.installed():
            return world().run(trigger)


class _Installed:
    """Swaps the bindings' functions for a fake's, and back. (A class, not a generator:
    componentize-py's `Err` is a frozen dataclass, which contextlib cannot re-raise.)"""

    def __init__(self, fake):
        self.fake = fake
        self.saved = []

    def __enter__(self):
        mods = bindings()
        f = self.fake
        parts = {
            "customers": f._customers(),
            "groups": f._groups(),
            "admin_users": f._admin_users(),
            "bulk": f._bulk(),
            "approvals": f._approvals(),
            "runtime": f._runtime(),
        }
        for name, fns in parts.items():
            for fn, impl in fns.items():
                self.saved.append((mods[name], fn, getattr(mods[name], fn)))
                setattr(mods[name], fn, impl)
        return f

    def __exit__(self, *exc):
        for mod, fn, old in self.saved:
            setattr(mod, fn, old)
        self.saved.clear()
        return False


def _merge(record, patch):
    """A PUT-merge: only the patched fields change."""
    import dataclasses

    changes = {fv.field: json.loads(fv.value_json) for fv in patch.set}
    unknown = [f for f in changes if not hasattr(record, f)]
    if unknown:
        raise bad_request(f"Invalid attribute name: {unknown[0]}", "Invalid attribute name: %1")
    merged = dataclasses.replace(record, **changes)
    if hasattr(record, "custom_attributes") and patch.custom_attributes:
        attrs = {a.code: a for a in record.custom_attributes}
        for a in patch.custom_attributes:
            attrs[a.code] = a
        merged = dataclasses.replace(merged, custom_attributes=list(attrs.values()))
    if hasattr(record, "addresses") and patch.replace_addresses is not None:
        merged = dataclasses.replace(merged, addresses=list(patch.replace_addresses))
    return merged
