"""onboard-customer-py: the Python twin of `onboard-customer`, written with the Python SDK.

Creates a storefront customer from a manual input or a webhook event and puts them in the
requested group. A privileged group (config `privileged_groups`, default `Wholesale`) needs an
approval first. An email already registered in the website is left as it is.

Input (manual JSON, or a webhook body with a `customer` object):
`{"email": "...", "firstname": "...", "lastname": "...", "website_id": 1, "group": "Wholesale"}`
"""

import json

import mageflow_sdk as mf
from wit_world.imports import customers, groups, runtime, types


def read_request(text):
    """The person to onboard, from a manual input or a webhook body."""
    try:
        body = json.loads(text)
    except ValueError as e:
        raise ValueError(f"input is not JSON: {e}") from None
    c = body.get("customer") or (body.get("data") or {}).get("customer") or body
    missing = [k for k in ("email", "firstname", "lastname") if not c.get(k)]
    if missing:
        raise ValueError(f"the input lacks {', '.join(missing)}")
    return c


def group_id(name_or_id):
    """A group's id from its name (`Wholesale`) or id (`2`)."""
    text = str(name_or_id)
    for g in mf.call(groups.list):
        if g.code.lower() == text.lower() or str(g.id) == text:
            return g.id, g.code
    raise ValueError(f"no customer group is named {text!r}")


def run(trigger):
    if isinstance(trigger, types.Trigger_Manual):
        request = read_request(trigger.value)
    elif isinstance(trigger, types.Trigger_Webhook):
        request = read_request(trigger.value.body_json)
    else:
        raise ValueError("onboard-customer-py runs by hand or on a registration webhook")
    email, website = request["email"], request.get("website_id")
    existing = mf.call(customers.find_by_email, email, website)
    if existing is not None:
        return mf.outcome(f"{email} is already customer {existing.id}; nothing to do")
    gid, gname = group_id(request.get("group", 1))
    privileged = [p.strip().lower() for p in (runtime.config("privileged_groups") or "Wholesale").split(",")]
    if gname.lower() in privileged:
        answer = mf.request_approval(
            f"Onboard {email} into {gname}",
            f"{request['firstname']} {request['lastname']} <{email}> asks for the privileged group {gname}.",
            details={"email": email, "group": gname, "group_id": gid},
        )
        if not answer:
            why = "it expired" if answer.expired else f"rejected by {answer.by} ({answer.reason})"
            return mf.outcome(f"not onboarded: {why}")
    made = mf.call(
        customers.create,
        types.NewCustomer(email, request["firstname"], request["lastname"], website, gid, None),
        None,
    )
    mf.log.info(f"created customer {made.id} <{email}> in {gname}")
    return mf.outcome(f"created customer {made.id} <{email}> in {gname}", {"id": made.id})


WitWorld = mf.workflow(run)
