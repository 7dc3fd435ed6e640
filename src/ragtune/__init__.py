"""ragtune: RAG, fine-tuning, or both — measured on your own data.

    import ragtune
    with ragtune.open(".ragtune") as rt:
        rt.ingest("docs/", groups=["staff"])
        print(rt.ask("How many days of leave?", user="ana", groups=["staff"]).text)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragtune.version import __version__

if TYPE_CHECKING:
    from ragtune.handle import Ragtune


def open(path: Any = ".ragtune") -> Ragtune:  # noqa: A001 - the package's front door, as in ragtune.open(...)
    """A handle on the workspace at ``path`` for ingest, search and ask (``ragtune.handle``).
    Imported on first call, so ``import ragtune`` stays light."""
    from ragtune.handle import open_workspace

    return open_workspace(path)
