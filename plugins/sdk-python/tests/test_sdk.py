"""The SDK's own tests, natively against its fake: `python -m pytest plugins/sdk-python`."""

import logging

import pytest

from mageflow_sdk.testing import Fake, admin_user, bindings, customer, manual

import mageflow_sdk as mf

t = bindings()["types"]


def shop(n, group=1):
    return Fake().with_customers(customer(i, f"c{i}@example.com", group_id=group) for i in range(1, n + 1))


def test_customer_pages_sees_every_match_once_over_many_pages():
    fake = shop(700)
    with fake.installed():
        pages = list(mf.customer_pages(mf.search().where("group_id", "eq", 1)))
    assert [len(p) for p in pages] == [300, 300, 100]
    ids = [c.id for p in pages for c in p]
    assert sorted(ids) == list(range(1, 701)) and len(set(ids)) == 700
    # The fake answers a page past the end with the last page again, as Magento does:
    # the iterator stops at the total instead of looping.
    assert fake.calls.count("customers.search") == 3


def test_search_filters_with_or_groups_and_sorts():
    fake = shop(10)
    with fake.installed():
        found = list(
            mf.all_customers(
                mf.search().where("entity_id", "eq", 3).or_where("entity_id", "eq", 7).sort_by("entity_id", descending=True)
            )
        )
    assert [c.id for c in found] == [7, 3]
    with pytest.raises(ValueError, match="unknown condition 'equals'"):
        mf.search().where("id", "equals", 1).criteria()


def test_a_patch_changes_only_what_it_names():
    address = t.Address(None, "A", "B", ["1 Main St"], "Town", "12345", "US", "555", None, True, True)
    fake = Fake().with_customers([customer(1, "a@example.com", addresses=[address])])
    with fake.installed():
        from wit_world.imports import customers

        mf.call(customers.update, 1, mf.patch().set("group_id", 3).custom_attribute("flag", "1").build())
    c = fake.customers[1]
    assert c.group_id == 3 and c.addresses == [address] and c.custom_attributes[0].code == "flag"


def test_magento_refusals_are_exceptions_with_the_texts_of_magento():
    fake = Fake()
    with fake.installed():
        from wit_world.imports import customers

        with pytest.raises(mf.NotFound) as e:
            mf.call(customers.get, 7)
        assert e.value.message == "No such entity with customerId = 7"
        assert e.value.status == 404 and e.value.parameters == {"fieldName": "customerId", "fieldValue": "7"}
        new = t.NewCustomer("c1@example.com", "A", "B", None, None, None)
        mf.call(customers.create, new, None)
        with pytest.raises(mf.BadRequest, match="same email address already exists"):
            mf.call(customers.create, new, None)
        with pytest.raises(mf.BadRequest, match="Invalid attribute name: nickname"):
            mf.call(customers.update, 1, mf.patch().set("nickname", "x").build())


def test_approvals_answer_plainly():
    with Fake().deciding(approved_by="dave").installed():
        a = mf.request_approval("Move 3 customers", "from General", details={"ids": [1, 2, 3]})
    assert a and a.by == "dave"
    with Fake().deciding(rejected=("erin", "wrong group")).installed():
        a = mf.request_approval("t", "s")
    assert not a and (a.by, a.reason) == ("erin", "wrong group")
    with Fake().deciding(expired=True).installed():
        assert mf.request_approval("t", "s").expired


@mf.workflow
def counting(trigger):
    """Counts group 1; fails on purpose for a bad input."""
    logging.getLogger("plugin").info("counting")
    mf.log.warn("careful")
    if trigger.value == "boom":
        raise RuntimeError("the input said boom")
    n = sum(len(p) for p in mf.customer_pages(mf.search().where("group_id", "eq", int(trigger.value))))
    return mf.outcome(f"{n} customers", {"count": n})


def test_the_run_wrapper_answers_an_outcome_and_logs():
    fake = shop(5)
    out = fake.run(counting, manual("1"))
    assert out.summary == "5 customers" and out.output_json == '{"count": 5}'
    assert fake.log == ["info: counting", "warn: careful"]


def test_an_uncaught_exception_fails_the_run_with_its_message_first():
    from componentize_py_types import Err

    with pytest.raises(Err) as e:
        shop(1).run(counting, manual("boom"))
    lines = e.value.value.splitlines()
    assert lines[0] == "RuntimeError: the input said boom"
    assert any("Traceback" in line for line in lines[1:])


def test_a_magento_error_uncaught_names_its_kind():
    from componentize_py_types import Err

    @mf.workflow
    def getter(trigger):
        from wit_world.imports import customers

        return mf.outcome(mf.call(customers.get, 99).email)

    with pytest.raises(Err) as e:
        Fake().run(getter, manual(""))
    assert e.value.value.splitlines()[0] == "NotFound: No such entity with customerId = 99"


def test_admin_users_and_bulk_in_the_fake():
    fake = shop(450).with_admin_users([admin_user(1, "ops", "ops@example.com")])
    with fake.installed():
        from wit_world.imports import admin_users, bulk

        assert mf.call(admin_users.deactivate, 1).is_active is False
        with pytest.raises(mf.BadRequest, match="same user name or email"):
            mf.call(admin_users.create, t.NewAdminUser("ops", "O", "P", "x@example.com", 1), "pw")
        receipts = mf.call(bulk.submit_updates, [(i, mf.patch().set("group_id", 2).build()) for i in range(1, 451)])
        assert [r.items for r in receipts] == [200, 200, 50]
    assert all(c.group_id == 2 for c in fake.customers.values())
