"""A unit of work: one session, rolled back unless committed.

The session is opened on first use: a chat turn that reads and writes only its conversation row (through the driver,
bot/store/convrows.py) never builds one."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._factory()
        return self._session

    @property
    def begun(self) -> bool:
        """Whether the session has a transaction open: something was read or written in it and not yet committed."""
        return self._session is not None and self._session.in_transaction()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            self._session.rollback()
            self._session.close()
            self._session = None

    def commit(self) -> None:
        self.session.commit()
