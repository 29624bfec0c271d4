"""The menu's request for a route book and the desk's reply, kept beside ``requests`` (which
names them in its ``Request`` and ``Reply`` unions) so that module stays within its size."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DownloadRouteBook:
    """Download the route book (the customers of a route, for offline payments); 0: every route
    of this terminal's agent."""

    route: int = 0


@dataclass(frozen=True)
class RouteBookLoaded:
    """The route book is on the terminal: customers, pages and bytes it took."""

    customers: int
    pages: int
    bytes: int
    route: str = ""
