"""SQL rows via SQLAlchemy: one document per row of a query.

The connection URL may hold a password: it is never shown; sources name the database by its
URL with the password masked.
"""

from __future__ import annotations

from collections.abc import Iterator

from ragtune.config import SqlSourceConfig
from ragtune.errors import LoadError
from ragtune.ingest.base import render_row
from ragtune.ingest.records import record_document
from ragtune.types import Document, IngestError, stable_id


def redacted_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


class SqlSource:
    """Documents from the rows of one query."""

    def __init__(self, config: SqlSourceConfig) -> None:
        self.config = config
        self.name = f"sql:{redacted_url(config.url)}#{stable_id(config.query, length=8)}"

    def documents(self) -> Iterator[Document | IngestError]:
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import SQLAlchemyError

        cfg = self.config
        try:
            engine = create_engine(cfg.url)
        except Exception as exc:  # bad URL, missing driver
            yield IngestError(self.name, f"cannot open database: {_short(exc)}")
            return
        try:
            with engine.connect() as connection:
                result = connection.execute(text(cfg.query))
                columns = list(result.keys())
                missing = _missing_columns(cfg, columns)
                if missing:
                    yield IngestError(self.name, f"query has no column(s): {', '.join(missing)}")
                    return
                for number, row in enumerate(result.mappings(), start=1):
                    record = dict(row)
                    if cfg.text_columns is None:
                        record = {"_row": render_row(columns, [record[c] for c in columns]), **record}
                    try:
                        yield record_document(
                            record,
                            container=self.name,
                            label=f"row {number}",
                            format="sql",
                            text_fields=cfg.text_columns or ["_row"],
                            id_field=cfg.id_column,
                            metadata_fields=cfg.metadata_columns,
                            groups_field=cfg.allowed_groups_column,
                            users_field=cfg.allowed_users_column,
                        )
                    except LoadError as exc:
                        yield IngestError(self.name, str(exc), f"row {number}")
        except SQLAlchemyError as exc:
            yield IngestError(self.name, f"query failed: {_short(exc)}")
        finally:
            engine.dispose()


def _missing_columns(cfg: SqlSourceConfig, columns: list[str]) -> list[str]:
    wanted = [*(cfg.text_columns or []), *cfg.metadata_columns]
    wanted += [c for c in (cfg.id_column, cfg.allowed_groups_column, cfg.allowed_users_column) if c]
    return [c for c in wanted if c not in columns]


def _short(exc: Exception) -> str:
    # SQLAlchemy appends the statement and a documentation link; the first line says what failed.
    return str(exc).split("\n", 1)[0]
