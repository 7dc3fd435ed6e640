"""Whether a question's principal may see any of its relevant documents, as the store decides.

An evaluation expects a refusal when the index holds a relevant document and none of them is
visible to the principal who asks: answering would mean the assistant knew what the principal may
not read. Visibility is the store's own access check (``Store.list_documents`` lists exactly the
documents a principal may see), never re-derived here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ragtune.evaluate.items import source_key
from ragtune.index.base import Store
from ragtune.types import Principal

PAGE = 1000


class RelevantVisibility:
    """Reads each principal's visible documents once (only when its answer's sources do not already
    show a relevant document) and the stored documents' origins once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._visible: dict[Principal, tuple[str, ...]] = {}
        self._origins: tuple[str, ...] | None = None

    def visible_sources(self, principal: Principal) -> tuple[str, ...]:
        if principal not in self._visible:
            sources: list[str] = []
            while True:
                page = self.store.list_documents(principal, limit=PAGE, offset=len(sources))
                sources.extend(d.source for d in page)
                if len(page) < PAGE:
                    break
            self._visible[principal] = tuple(sources)
        return self._visible[principal]

    def stored_origins(self) -> tuple[str, ...]:
        if self._origins is None:
            self._origins = tuple(sorted({s.origin for s in self.store.states_by_origin()}))
        return self._origins

    def hidden(self, relevant: Mapping[str, int], principal: Principal, seen: Iterable[str] = ()) -> bool:
        """True when the index holds a relevant document (grade > 0) and ``principal`` sees none.

        ``seen`` are sources the principal was already shown (an answer's sources), which are
        visible by construction and spare the listing. A relevant id is looked for in the stored
        documents by their origin (the file or SQL source), so an id that names no stored file (a
        typo, a folder never synced) never turns into an expected refusal; nor does a record id
        (``faq-1``), whose record the origin does not name.
        """
        judged = {doc for doc, grade in relevant.items() if grade > 0}
        if not judged:
            return False
        if any(source_key(s, relevant) in judged for s in seen):
            return False
        if any(source_key(s, relevant) in judged for s in self.visible_sources(principal)):
            return False
        return any(source_key(o, relevant) in judged for o in self.stored_origins())
