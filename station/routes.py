"""Route books (0100 350000) and the offline limits a terminal gets at sign-on.

An electrician going where there is no signal first downloads a route book: the customers of
a village (a route the station keeps, in walking order) with what each owes. The terminal asks
page by page — field 47 names the route and the page — and the station cuts the route into
pages that fit a frame. Route 0 asks for every route of the terminal's agent, as one book.

The limits within which a terminal may take payments offline come from the agent's row (one
payment: ``agents.offline_limit_fen``, tag 6) and from the ``params`` table (tags 8–11), so a
management console can change them without a new release; the defaults below apply while a
parameter is not set.
"""

from __future__ import annotations

import json

from station import customers
from station.answers import Context, Declined, reply, spoken
from station.ledger import Ledger, Row
from terminal.protocol import messages as m
from terminal.protocol.codes import OFFLINE_VERSION
from terminal.protocol.records import Amount, MeterKind
from terminal.protocol.responses import Code
from terminal.protocol.routebook import RouteEntry, pages

# params row name -> (field 54 tag, default). Totals and counts are of the offline payments a
# terminal holds not yet uploaded; ages are in hours.
OFFLINE_PARAMS: dict[str, tuple[Amount, int]] = {
    "offline_total_limit_fen": (Amount.OFFLINE_TOTAL, 1_000_000),
    "offline_count_limit": (Amount.OFFLINE_COUNT, 100),
    "route_book_max_age_h": (Amount.ROUTE_BOOK_HOURS, 72),
    "sign_on_max_age_h": (Amount.SIGN_ON_HOURS, 24),
}


def speaks_offline(ledger: Ledger, terminal_id: str) -> bool:
    """The version the terminal signed on with (``answers.spoken``) has offline collection's
    fields (R10): an older decoder refuses them."""
    return spoken(ledger, terminal_id) >= OFFLINE_VERSION


def offline_limits(ledger: Ledger, agent: Row) -> dict[Amount, int]:
    """Field 54 tags 8–11 of an approved 0810 (tag 6 goes to every version)."""
    limits: dict[Amount, int] = {}
    for name, (tag, default) in OFFLINE_PARAMS.items():
        limits[tag] = int(ledger.param(name, str(default)) or default)
    return limits


def routes_of(ledger: Ledger, agent_id: str) -> dict[int, tuple[str, list[str]]]:
    """An agent's routes: number -> (name, customer numbers in walking order).

    Kept as one ``params`` row per agent (``routes.<agent>``, JSON), which a management console
    edits like any other parameter.
    """
    text = ledger.param(f"routes.{agent_id}", "{}") or "{}"
    stored = json.loads(text)
    return {int(number): (name, list(members)) for number, (name, members) in stored.items()}


def set_routes(ledger: Ledger, agent_id: str, routes: dict[int, tuple[str, list[str]]]) -> None:
    ledger.set_param(f"routes.{agent_id}", json.dumps(routes, ensure_ascii=False))


def _entry(ledger: Ledger, customer: Row) -> RouteEntry:
    number = customer["customer_no"]
    return RouteEntry(
        number,
        MeterKind(customer["meter_kind"]),
        customers.due(ledger, customer),
        customer["credit_fen"],
        len(ledger.unpaid_bills(number)),
        customer["name"],
    )


def route_book(ctx: Context, request: m.InquiryRequest, terminal: Row) -> m.Response:
    """One page of a route book: field 47 (route, page), pages counted from 1.

    Card-prepaid customers are left out: a card purchase is never taken offline (the station
    alone creates credit for a card). A route the agent does not have is answered 14, a page
    past the last 12.
    """
    if request.range is None:
        raise Declined(Code.INVALID)
    route, page = request.range
    db = ctx.ledger
    owned = routes_of(db, terminal["agent_id"])
    chosen = sorted(owned) if route == 0 else [route]
    if not chosen or any(number not in owned for number in chosen):
        raise Declined(Code.UNKNOWN_CUSTOMER)
    entries = []
    for number in chosen:
        for customer_no in owned[number][1]:
            customer = db.customer(customer_no)
            if customer is not None and customer["meter_kind"] != MeterKind.CARD_PREPAID:
                entries.append(_entry(db, customer))
    cut = pages(entries)
    if not 1 <= page <= len(cut):
        raise Declined(Code.INVALID)
    return reply(
        request,
        Code.APPROVED,
        range=(page, len(cut)),
        route_book=cut[page - 1],
        address="、".join(owned[number][0] for number in chosen)[:40],
        amounts={Amount.COUNT: len(entries)},
    )


# The demo's routes: the first customers of each agent's range, in number order.
DEMO_ROUTES = (
    (1, "A0001", "城关镇石门村", range(1, 81)),
    (2, "A0002", "青山乡柳树村", range(81, 141)),
    (3, "A0003", "石门镇河湾村", range(141, 201)),
)


def seed_demo_routes(ledger: Ledger) -> None:
    for route, agent_id, name, indexes in DEMO_ROUTES:
        members = [f"01{index:08d}" for index in indexes]
        set_routes(ledger, agent_id, {**routes_of(ledger, agent_id), route: (name, members)})
