from __future__ import annotations

from fleetgate.diff import FieldChange, diff_fields


def test_leaves_that_changed_are_listed_with_old_and_new() -> None:
    old = {"spec": {"a": 1, "regions": ["US", "EU"], "gone": True}}
    new = {"spec": {"a": 2, "regions": ["US", "JP", "UK"], "added": {"x": 1}}}
    assert diff_fields(old, new) == [
        FieldChange("spec.a", 1, 2),
        FieldChange("spec.regions[1]", "EU", "JP"),
        FieldChange("spec.regions[2]", None, "UK"),
        FieldChange("spec.added.x", None, 1),
        FieldChange("spec.gone", True, None),
    ]


def test_equal_documents_have_no_diff_but_a_type_change_counts() -> None:
    assert diff_fields({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []
    assert diff_fields({"a": 1}, {"a": 1.0}) == [FieldChange("a", 1, 1.0)]
    assert diff_fields({"a": 1}, {"a": "1"}) == [FieldChange("a", 1, "1")]
