"""Searches that always carry criteria, and paging over all their pages (Magento caps a
page at 300, and answers a page past the end with the last page again)."""

from ._bindings import interface
from .errors import call

MAX_PAGE = 300


class Search:
    """`search().where("group_id", "eq", 1).sort_by("entity_id").page_size(100)`."""

    def __init__(self):
        self._groups = []
        self._sort = []
        self._page_size = None

    def where(self, field, condition, value):
        """ANDs a filter: `condition` is a Magento condition (eq, neq, like, in, gteq, ...)."""
        self._groups.append([(field, condition, value)])
        return self

    def or_where(self, field, condition, value):
        """ORs a filter with the last one."""
        if not self._groups:
            return self.where(field, condition, value)
        self._groups[-1].append((field, condition, value))
        return self

    def sort_by(self, field, descending=False):
        self._sort.append((field, descending))
        return self

    def page_size(self, n):
        self._page_size = max(1, min(int(n), MAX_PAGE))
        return self

    def criteria(self, page=None):
        """The bindings' `SearchCriteria` for `page` (from 1)."""
        types = interface("types")

        def condition(name):
            try:
                return types.Condition[name.upper()]
            except KeyError:
                raise ValueError(
                    f"unknown condition {name!r}: use eq, neq, like, nlike, in, nin, notnull, "
                    "null, gt, lt, gteq, lteq, moreq, from, to, finset or nfinset"
                ) from None

        return types.SearchCriteria(
            groups=[
                [types.Filter(f, condition(c), _text(v)) for f, c, v in group]
                for group in self._groups
            ],
            sort=[types.SortOrder(f, d) for f, d in self._sort],
            page_size=self._page_size,
            current_page=page,
        )


def _text(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def search():
    return Search()


def customer_pages(criteria):
    """Every customer `criteria` matches, a page (a list) at a time, sorted by id unless the
    search sorts otherwise, so no customer is skipped or seen twice between pages."""
    customers = interface("customers")

    if not criteria._sort:
        criteria = _copy(criteria).sort_by("entity_id")
    size = criteria._page_size or MAX_PAGE
    seen, page = 0, 1
    while True:
        got = call(customers.search, criteria.page_size(size).criteria(page))
        if not got.items:
            return
        seen += len(got.items)
        yield got.items
        if seen >= got.total_count or len(got.items) < size:
            return
        page += 1


def all_customers(criteria):
    """Every customer `criteria` matches, one at a time."""
    for page in customer_pages(criteria):
        yield from page


def _copy(criteria):
    c = Search()
    c._groups = [list(g) for g in criteria._groups]
    c._sort = list(criteria._sort)
    c._page_size = criteria._page_size
    return c
