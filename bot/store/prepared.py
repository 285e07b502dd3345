"""Fixed Core statements compiled once per dialect and run on the driver's path.

Why: every sent alert runs the same four statements and every recorded check the same fenced
``UPDATE``; only their bind values vary. Through ``Connection.execute`` each such statement
paid ~60 µs of CPU for Core's per-execute work (cache key, compiled-cache look-up, parameter
and result objects), several times what SQLite spends on it; through ``exec_driver_sql``
~20 µs. Nothing else changes: the SQL is the text Core compiles for the
dialect, each value goes through its column type's own bind processor (the same conversion
Core applies: UTC datetimes, SQLite's datetime strings), and ``exec_driver_sql`` runs in the
connection's transaction, fires the engine's events and wraps driver errors as ``execute``
does. Results come back as the driver's values (no result processing): use this only for
statements whose returned columns need none (ids, strings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # the bind names in order, for a positional paramstyle
    fixed: dict[str, Any]  # the statement's own values (``status = 'sent'``), processed
    processors: dict[str, Callable[[Any], Any]]  # by bind name, for the types that have one


class Prepared:
    """A Core statement whose bind parameters are the only thing that varies per execution."""

    def __init__(self, statement: sa.ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}  # by "backend+driver" (its paramstyle)

    def execute(self, c: sa.Connection, params: Mapping[str, Any]) -> sa.CursorResult[Any]:
        """Run the statement with ``params`` (by bind parameter name) on ``c``."""
        compiled = self._by_dialect.get(c.dialect.dialect_description) or self._compile(c.dialect)
        values = dict(compiled.fixed)
        processors = compiled.processors
        for name, value in params.items():
            process = processors.get(name)
            values[name] = value if process is None else process(value)
        if compiled.positional is None:
            return c.exec_driver_sql(compiled.sql, values)
        return c.exec_driver_sql(compiled.sql, tuple(map(values.__getitem__, compiled.positional)))

    def _compile(self, dialect: sa.Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if not isinstance(compiled, sa.sql.compiler.SQLCompiler):
            raise TypeError(f"not a SQL statement: {self.statement!r}")
        if compiled.escaped_bind_names or "POSTCOMPILE" in compiled.string:
            # Names the driver sees differently, or values rendered at execution time
            # (expanding IN lists): Core's own path handles those, this one does not.
            raise ValueError(f"statement needs Core's execution path: {compiled.string}")
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        processors: dict[str, Callable[[Any], Any]] = {}
        fixed: dict[str, Any] = {}
        for name, bind in binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
            if not bind.required:
                value = bind.effective_value
                fixed[name] = value if process is None else process(value)
        prepared = _Compiled(
            sql=compiled.string,
            positional=tuple(compiled.positiontup or ()) if compiled.positional else None,
            fixed=fixed,
            processors=processors,
        )
        self._by_dialect[dialect.dialect_description] = prepared
        return prepared
