"""What the recorder needs from the ledger's store, and what the store tells back. Pure contract.

The store (service/db/ledger.py) writes call records idempotently by linkedid. Writing may add
to what the PBX said: the owner (who held the extension) and, for an inbound caller, the client
matched by number. It answers with those facts per written call, so the live screens get them
from the committed row rather than from a second lookup. Its driver's errors reach the recorder
only as StoreUnavailable (retry) or RecordsRefused (set aside): see dialer/errors.py.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dialer.records import CallRecord


@dataclass(frozen=True, slots=True)
class StoredCall:
    """A call's row as committed: the facts the store added to the PBX's record."""

    client_id: str | None = None
    client_name: str | None = None  # the organisation's name (its client is known, or matched by number)
    owner_id: int | None = None  # the user who held the extension when the call was recorded


class CallStore(Protocol):
    async def upsert_calls(self, records: Sequence[CallRecord]) -> Mapping[str, StoredCall]:
        """Write the records in one transaction: linkedid → the committed row's facts.

        A record the store ignores (an open one for a call already closed) may be missing
        from the answer. Raises StoreUnavailable or RecordsRefused, nothing else.
        """
        ...

    async def open_calls(self) -> list[CallRecord]: ...

    async def existing_linkedids(self, linkedids: Collection[str]) -> set[str]:
        """Which of these calls the store holds (the CDR backstop adds only the others)."""
        ...

    async def guessed_calls(self, since: datetime) -> list[CallRecord]:
        """Closed calls started since then with a guessed field the CDR has not put right."""
        ...

    async def last_call_time(self) -> datetime | None:
        """The latest start or end of a call the store holds (PBX clock): where a downtime began."""
        ...
