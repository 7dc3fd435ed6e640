"""The short path for the common case: ``ragtune.open(folder)`` returns a ``Ragtune`` that
ingests, searches and answers in the workspace, loading the index and the models once, on first
use, and closing them with ``close()`` or at the end of a ``with`` block.

    import ragtune

    with ragtune.open(".ragtune") as rt:
        rt.ingest("docs/", groups=["staff"])
        answer = rt.ask("How many days of leave?", user="ana", groups=["staff"])
        print(answer.text, [c.source for c in answer.citations])

Every search and answer runs as the principal given (``user`` and ``groups``): it never sees a
document that principal may not see. The stage APIs (``ragtune.ingest.api``,
``ragtune.retrieve.api``, ``ragtune.generate.api``) remain for everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.types import Principal
from ragtune.workspace import Workspace

if TYPE_CHECKING:
    from ragtune.generate.answer import Answer
    from ragtune.generate.assistant import Assistant
    from ragtune.index.base import StoreStatus
    from ragtune.ingest.pipeline import IngestReport
    from ragtune.retrieve.retriever import Retrieval, Retriever


def _principal(user: str, groups: Iterable[str]) -> Principal:
    return Principal(user, frozenset([groups] if isinstance(groups, str) else groups))


class Ragtune:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._retriever: Retriever | None = None
        self._assistant: Assistant | None = None

    @property
    def root(self) -> Path:
        return self.workspace.root

    def ingest(self, *paths: str | Path, groups: Iterable[str] = (), users: Iterable[str] = (),
               sync: bool = False) -> IngestReport:
        """Index files and folders; only what changed is embedded again. ``groups``/``users``:
        who may see documents that carry no access list of their own (default: ``public``).
        ``sync``: also delete documents of these folders that vanished."""
        from ragtune.ingest.api import ingest

        self._close_readers()  # they would keep reading the index as it was
        groups = [groups] if isinstance(groups, str) else list(groups)
        users = [users] if isinstance(users, str) else list(users)
        return ingest(self.workspace, [Path(p) for p in paths], groups=groups, users=users, sync=sync)

    def search(self, query: str, *, user: str = "anonymous", groups: Iterable[str] = (), k: int | None = None,
               mode: str | None = None, filters: Mapping[str, Any] | None = None) -> Retrieval:
        """The chunks ``user`` (in ``groups``) may see that match ``query``, best first."""
        if self._retriever is None:
            from ragtune.generate.expand import attach_expander
            from ragtune.retrieve.api import open_retriever

            config = self.workspace.load_config()
            self._retriever = attach_expander(open_retriever(self.workspace, config), config.llm)
        return self._retriever.search(query, _principal(user, groups), k=k, mode=mode, filters=filters)  # type: ignore[arg-type]

    def ask(self, question: str, *, user: str = "anonymous", groups: Iterable[str] = (), **options: Any) -> Answer:
        """An answer with verified citations, as ``user`` (in ``groups``); ``options`` as for
        ``Assistant.ask`` (``k``, ``mode``, ``filters``, ``json_schema``, ``answer_mode``...)."""
        if self._assistant is None:
            from ragtune.generate.api import open_assistant

            self._assistant = open_assistant(self.workspace)
        return self._assistant.ask(question, _principal(user, groups), **options)

    def status(self) -> StoreStatus:
        from ragtune.retrieve.api import index_status

        return index_status(self.workspace)

    def _close_readers(self) -> None:
        if self._assistant is not None:
            self._assistant.close()
            self._assistant = None
        if self._retriever is not None:
            self._retriever.close()
            self._retriever = None

    def close(self) -> None:
        self._close_readers()

    def __enter__(self) -> Ragtune:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_workspace(path: str | Path = ".ragtune") -> Ragtune:
    """The workspace at ``path`` (created with a default ``ragtune.toml`` if missing)."""
    workspace = Workspace(Path(path))
    workspace.init()
    return Ragtune(workspace)
