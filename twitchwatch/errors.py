"""The ground floor's typed errors, under the one root every TwitchWatch error shares.

Each error carries fields (``site``, ``problem``, …) and composes its one-line message in
``__init__``; only the command line catches :class:`TwitchWatchError`, prints that line and exits
with code 2. Each floor above adds its own errors, all under this root.
"""

from __future__ import annotations


class TwitchWatchError(Exception):
    """Root of every error the command line reports as one line (exit code 2)."""


class SiteError(TwitchWatchError):
    def __init__(self, site: str, problem: str) -> None:
        super().__init__(f"body site {site!r}: {problem}")
        self.site, self.problem = site, problem


class ContractError(TwitchWatchError):
    """A topic or an id that the contract does not allow."""


class PayloadError(TwitchWatchError):
    """A payload that breaks the contract. ``problem`` is a short code for counters."""

    def __init__(self, what: str, problem: str, detail: str) -> None:
        super().__init__(f"{what} payload: {detail}")
        self.what, self.problem, self.detail = what, problem, detail
