"""The ledger's driver errors as the dialer's StoreError (dialer/ imports no SQLAlchemy, issue 11)."""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, StatementError

from dialer.errors import RecordsRefused, StoreUnavailable
from service.db.store_errors import rejected_by_database, store_error


def test_which_errors_mean_the_data_was_refused() -> None:
    class PgError(Exception):
        sqlstate = "22001"

    assert rejected_by_database(DataError("x", {}, ValueError()))
    assert rejected_by_database(StatementError("bad parameter", "x", {}, TypeError()))
    assert rejected_by_database(DBAPIError("x", {}, PgError("value too long")))
    assert not rejected_by_database(OperationalError("x", {}, OSError()))
    assert not rejected_by_database(InterfaceError("x", {}, ConnectionResetError()))
    assert not rejected_by_database(TimeoutError())


def test_the_store_raises_only_store_errors_with_the_databases_own_message() -> None:
    class PgError(Exception):
        sqlstate = "22001"

    too_long = PgError("value too long for type character varying(64)")
    refused = store_error(DBAPIError("INSERT …", {"linkedid": "x"}, too_long))
    assert isinstance(refused, RecordsRefused)
    assert str(refused) == "PgError (SQLSTATE 22001): value too long for type character varying(64)"
    assert isinstance(store_error(OperationalError("x", {}, ConnectionRefusedError("refused"))), StoreUnavailable)
    assert isinstance(store_error(OSError("network is unreachable")), StoreUnavailable)
