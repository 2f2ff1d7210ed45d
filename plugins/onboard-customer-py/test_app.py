"""Native tests against the SDK's fake host: `python3 -m pytest` (with plugins/sdk-python
on the path)."""

import json

from mageflow_sdk.testing import Err, Fake, customer, manual

import app


def onboard(fake, **fields):
    person = {"email": "new@example.com", "firstname": "Nia", "lastname": "Ng", **fields}
    return fake.run(app.WitWorld, manual(json.dumps(person)))


def test_a_general_customer_is_created_without_asking():
    fake = Fake()
    out = onboard(fake, group="General")
    assert out.summary == "created customer 1 <new@example.com> in General"
    assert fake.customers[1].group_id == 1 and fake.approvals == []


def test_a_wholesale_customer_waits_for_an_approval():
    fake = Fake().deciding(approved_by="bob")
    out = onboard(fake, group="Wholesale")
    assert out.summary == "created customer 1 <new@example.com> in Wholesale"
    assert fake.approvals[0].title == "Onboard new@example.com into Wholesale"
    assert json.loads(fake.approvals[0].details_json)["group_id"] == 2


def test_a_rejection_creates_nobody():
    fake = Fake().deciding(rejected=("erin", "not a reseller"))
    out = onboard(fake, group="Wholesale")
    assert out.summary == "not onboarded: rejected by erin (not a reseller)"
    assert fake.customers == {}


def test_a_known_email_is_left_as_it_is():
    fake = Fake().with_customers([customer(7, "new@example.com")])
    assert onboard(fake).summary == "new@example.com is already customer 7; nothing to do"
    assert "customers.create" not in fake.calls


def test_a_webhook_body_and_a_bad_input():
    fake = Fake()
    hook = app.types.Trigger_Webhook(
        app.types.WebhookEvent("observer.customer_register_success", json.dumps({"data": {"customer": {"email": "w@example.com", "firstname": "W", "lastname": "H"}}}))
    )
    assert fake.run(app.WitWorld, hook).summary == "created customer 1 <w@example.com> in General"
    try:
        fake.run(app.WitWorld, manual('{"email": "x@example.com"}'))
    except Err as e:
        assert e.value.splitlines()[0] == "ValueError: the input lacks firstname, lastname"
    else:
        raise AssertionError("a bad input did not fail the run")
