"""Who may see a document: sidecar file, front matter, directory file, ingest option, default.

The first of these that exists decides, in that order:
1. ``<file>.acl.json`` next to the file, or the file's own front matter / record fields;
2. the nearest ``.ragtune-acl.json`` in the file's folder or a parent folder (up to the
   ingested root);
3. the ingest command's ``--groups`` / ``--users`` options;
4. otherwise ``ingest.default_groups`` (``public`` unless configured).

A malformed access file is an error for the documents it governs: they are not ingested, never
silently made public.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ragtune.errors import LoadError
from ragtune.types import AccessList, Document

SIDECAR_SUFFIX = ".acl.json"
DIRECTORY_ACL_NAME = ".ragtune-acl.json"
_ORIGINS_FROM_CONTENT = {"front matter", "record fields"}


def is_acl_file(path: Path) -> bool:
    return path.name == DIRECTORY_ACL_NAME or path.name.endswith(SIDECAR_SUFFIX)


def parse_names(value: Any, field: str) -> frozenset[str]:
    """A list of names, or one comma-separated string; anything else is an error."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        raise LoadError(f"{field} must be a list of names or a comma-separated string")
    names = set()
    for item in items:
        if not isinstance(item, str | int):
            raise LoadError(f"{field} holds a {type(item).__name__}, expected names")
        name = str(item).strip()
        if name:
            names.add(name)
    return frozenset(names)


def access_from_mapping(
    values: Mapping[str, Any], origin: str, users_key: str = "allowed_users",
    groups_key: str = "allowed_groups",
) -> AccessList | None:
    """An access list from a mapping that names it, or None when the mapping names neither key."""
    if users_key not in values and groups_key not in values:
        return None
    users = parse_names(values.get(users_key), users_key)
    groups = parse_names(values.get(groups_key), groups_key)
    if not users and not groups:
        raise LoadError(f"{origin} grants access to no one (empty {users_key} and {groups_key})")
    return AccessList(allowed_users=users, allowed_groups=groups, origin=origin)


def read_acl_file(path: Path) -> AccessList:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read access file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise LoadError(f"access file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise LoadError(f"access file {path} must hold a JSON object")
    unknown = set(raw) - {"allowed_users", "allowed_groups"}
    if unknown:
        raise LoadError(f"access file {path} has unknown keys: {', '.join(sorted(unknown))}")
    access = access_from_mapping(raw, origin=str(path))
    if access is None:
        raise LoadError(f"access file {path} names neither allowed_users nor allowed_groups")
    return access


class AccessResolver:
    """Applies the precedence above to the documents loaded from one file."""

    def __init__(
        self,
        root: Path | None = None,
        option_groups: Iterable[str] = (),
        option_users: Iterable[str] = (),
        default_groups: Iterable[str] = ("public",),
    ) -> None:
        self.root = root.absolute() if root else None
        self.option = None
        if option_groups or option_users:
            self.option = AccessList(
                allowed_users=frozenset(option_users),
                allowed_groups=frozenset(option_groups),
                origin="ingest option",
            )
        self.default = AccessList(allowed_groups=frozenset(default_groups), origin="default")
        self._directory_cache: dict[Path, AccessList | None] = {}

    def apply(self, file: Path | None, documents: list[Document]) -> None:
        """Set the access list of documents loaded from ``file`` (None: not from a file, e.g.
        SQL rows, where only the documents' own fields, the option and the default apply)."""
        access, overrides_content = self.file_access(file)
        for document in documents:
            if overrides_content or document.access.origin not in _ORIGINS_FROM_CONTENT:
                document.access = access

    def file_access(self, file: Path | None) -> tuple[AccessList, bool]:
        """The access list the file's documents get unless their own content names one, and
        whether it overrides even that (a sidecar does). Needs no parsing, so an ingest planner
        can tell an access change from the outside of a file."""
        if file is not None:
            sidecar = file.with_name(file.name + SIDECAR_SUFFIX)
            if sidecar.exists():
                return read_acl_file(sidecar), True
        directory = self._directory_access(file.absolute().parent) if file is not None else None
        return directory or self.option or self.default, False

    def _directory_access(self, folder: Path) -> AccessList | None:
        if folder in self._directory_cache:
            return self._directory_cache[folder]
        candidate = folder / DIRECTORY_ACL_NAME
        if candidate.exists():
            access: AccessList | None = read_acl_file(candidate)
        elif self.root is not None and folder != self.root and self.root in folder.parents:
            access = self._directory_access(folder.parent)
        else:
            access = None
        self._directory_cache[folder] = access
        return access
