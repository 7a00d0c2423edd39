"""The database driver's errors as the dialer's store errors: the dialer never sees SQLAlchemy or asyncpg.

StoreUnavailable: the database cannot be reached now (down, restarting, timing out): the
recorder keeps the records and retries. RecordsRefused: the database refused the data itself
(a value too long, a constraint): retrying the same records cannot help, the recorder sets the
refused ones aside.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from dialer.errors import RecordsRefused, StoreError, StoreUnavailable


def store_error(error: BaseException) -> StoreError:
    """The StoreError for a failed write (its message is the database's own, on one line)."""
    kind = RecordsRefused if rejected_by_database(error) else StoreUnavailable
    return kind(reason(error))


def rejected_by_database(error: BaseException) -> bool:
    """The database refused the data itself (a value too long, a constraint): retrying cannot help.

    A connection that is down, restarting or timing out is not this: those are retried.
    """
    if isinstance(error, (DataError, IntegrityError)):
        return True
    if not isinstance(error, StatementError):
        return False
    if not isinstance(error, DBAPIError):
        return True  # raised while preparing the parameters, before the database saw them
    # Drivers that do not map SQLSTATEs to DBAPI classes (asyncpg: a value too long is a bare
    # `Error`): class 22 is "data exception", 23 "integrity constraint violation".
    for cause in _causes(error.orig):
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(state, str) and state[:2] in ("22", "23"):
            return True
        if type(cause).__name__ == "DataError" and type(cause).__module__.startswith("asyncpg"):
            return True  # asyncpg refused to encode a parameter (it calls that an InterfaceError)
    return False


def reason(error: BaseException) -> str:
    """The database's own message, on one line (a DBAPIError's text also carries the SQL and data)."""
    chain = _causes(getattr(error, "orig", None) or error)
    origin = chain[-1]  # the driver's own exception
    state = next((getattr(c, "sqlstate", None) for c in chain if getattr(c, "sqlstate", None)), None)
    text = " ".join(str(origin).split())[:300]
    return f"{type(origin).__name__}{f' (SQLSTATE {state})' if state else ''}: {text}"


def _causes(error: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while error is not None and error not in chain and len(chain) < 8:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain
