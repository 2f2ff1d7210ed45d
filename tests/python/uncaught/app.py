"""Test guest (Python, componentize-py): asks Magento for a customer that does not exist and
does not catch the host error, so the run fails with an uncaught exception (issue 11: the
run's first error line must name it)."""

import wit_world
from wit_world.imports import customers, types


class WitWorld(wit_world.WitWorld):
    def run(self, trigger: types.Trigger) -> types.Outcome:
        customer = customers.get(999999)
        return types.Outcome(summary=f"found {customer.email}", output_json=None)
