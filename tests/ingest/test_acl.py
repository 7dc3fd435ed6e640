"""Access lists: sidecar > front matter/record > directory file > --groups > default."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragtune.errors import LoadError
from ragtune.ingest.acl import AccessResolver, access_from_mapping
from ragtune.types import AccessList, Document, Principal


def _doc(origin: str = "default") -> Document:
    doc = Document("d", "mem://d", "text", "text")
    if origin != "default":
        doc.access = AccessList(allowed_groups=frozenset({"fm"}), origin=origin)
    return doc


def _tree(tmp_path):
    (tmp_path / "hr" / "payroll").mkdir(parents=True)
    (tmp_path / "hr" / ".ragtune-acl.json").write_text(json.dumps({"allowed_groups": ["hr"]}))
    for rel in ("open.md", "hr/leave.md", "hr/payroll/2026.md", "hr/secret.md"):
        (tmp_path / rel).write_text("x")
    (tmp_path / "hr" / "secret.md.acl.json").write_text(json.dumps({"allowed_users": ["ceo"]}))
    return tmp_path


@pytest.mark.parametrize(
    ("rel", "origin", "expected_groups", "expected_users"),
    [
        ("open.md", "default", {"public"}, set()),
        ("hr/leave.md", "default", {"hr"}, set()),
        ("hr/payroll/2026.md", "default", {"hr"}, set()),  # inherited from the parent folder
        ("hr/secret.md", "default", set(), {"ceo"}),  # sidecar beats the folder
        ("hr/leave.md", "front matter", {"fm"}, set()),  # front matter beats the folder
        ("hr/secret.md", "front matter", set(), {"ceo"}),  # sidecar beats front matter
    ],
)
def test_precedence(tmp_path, rel, origin, expected_groups, expected_users):
    root = _tree(tmp_path)
    doc = _doc(origin)
    AccessResolver(root).apply(root / rel, [doc])
    assert doc.access.allowed_groups == expected_groups
    assert doc.access.allowed_users == expected_users


def test_option_groups_apply_only_without_files(tmp_path):
    root = _tree(tmp_path)
    resolver = AccessResolver(root, option_groups=["staff"])
    open_doc, hr_doc = _doc(), _doc()
    resolver.apply(root / "open.md", [open_doc])
    resolver.apply(root / "hr/leave.md", [hr_doc])
    assert open_doc.access.allowed_groups == {"staff"} and open_doc.access.origin == "ingest option"
    assert hr_doc.access.allowed_groups == {"hr"}


def test_directory_file_above_the_root_is_not_used(tmp_path):
    root = _tree(tmp_path)
    doc = _doc()
    AccessResolver(root / "hr" / "payroll").apply(root / "hr/payroll/2026.md", [doc])
    assert doc.access.allowed_groups == {"public"}


@pytest.mark.parametrize("content", ['{"allowed_groups": "hr"', '["hr"]', '{"groups": ["hr"]}',
                                      '{"allowed_groups": [], "allowed_users": []}', '{"allowed_groups": 5}'])
def test_malformed_access_files_fail_closed(tmp_path, content):
    (tmp_path / "doc.md").write_text("x")
    (tmp_path / "doc.md.acl.json").write_text(content)
    doc = _doc()
    with pytest.raises(LoadError):
        AccessResolver(tmp_path).apply(tmp_path / "doc.md", [doc])
    assert doc.access.origin == "default"  # untouched; the pipeline drops the document


def test_comma_separated_names_are_accepted():
    access = access_from_mapping({"allowed_groups": "hr, finance,,"}, origin="x")
    assert access is not None and access.allowed_groups == {"hr", "finance"}


names = st.sets(st.sampled_from(["a", "b", "c", "hr", "public"]), max_size=3)


@settings(max_examples=300)
@given(doc_users=names, doc_groups=names, user=st.sampled_from(["a", "b", "c"]), groups=names)
def test_visibility_rule(doc_users, doc_groups, user, groups):
    access = AccessList(allowed_users=frozenset(doc_users), allowed_groups=frozenset(doc_groups))
    principal = Principal(user, frozenset(groups))
    expected = user in doc_users or bool(doc_groups & (groups | {"public"}))
    assert access.visible_to(principal) is expected
