from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.changes import changes_between, changes_in_paths, match_changes
from fleetgate.config import ManifestSelector
from fleetgate.errors import ManifestError
from fleetgate.git import INDEX, WORKTREE, Git
from fleetgate.manifest import Limits, read_manifests

from support import GitRepo, manifest, to_yaml

SELECT = ManifestSelector()


def kinds(changes: object) -> list[tuple[str, str, str]]:
    return [(c.kind, c.manifest.target, c.manifest.file) for c in changes.changes]  # type: ignore[attr-defined]


def test_added_modified_deleted_and_unchanged(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("models/b.yaml", to_yaml(manifest("b")))
    repo.write("models/c.yaml", to_yaml(manifest("c"), manifest("c2")))
    base = repo.commit("base")
    repo.write("models/a.yaml", to_yaml(manifest("a", version="3.2.2")))
    (repo.root / "models/b.yaml").unlink()
    repo.write("models/c.yaml", to_yaml(manifest("c"), manifest("c2", tier="lite")))
    repo.write("models/d.yaml", to_yaml(manifest("d")))
    changes = changes_between(Git.discover(repo.root), base, WORKTREE, SELECT, Limits())
    assert kinds(changes) == [
        ("modified", "production/a", "models/a.yaml"),
        ("deleted", "production/b", "models/b.yaml"),
        ("modified", "production/c2", "models/c.yaml"),
        ("added", "production/d", "models/d.yaml"),
    ]
    assert changes.context.base_commit == base
    [a] = [c for c in changes.changes if c.manifest.name == "a"]
    assert [(f.path, f.old, f.new) for f in a.field_changes()] == [("spec.version", "3.2.1", "3.2.2")]


def test_a_moved_manifest_is_a_modification(repo: GitRepo) -> None:
    repo.write("old/place.yaml", to_yaml(manifest("a")))
    base = repo.commit("base")
    (repo.root / "old/place.yaml").unlink()
    repo.write("new/place.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 25})))
    head = repo.commit("move")
    changes = changes_between(Git.discover(repo.root), base, head, SELECT, Limits())
    assert kinds(changes) == [("modified", "production/a", "new/place.yaml")]
    [change] = changes.changes
    assert change.base is not None and change.base.file == "old/place.yaml"


def test_a_pure_rename_without_edits_is_no_change(repo: GitRepo) -> None:
    repo.write("a.yaml", to_yaml(manifest("a")))
    base = repo.commit("base")
    repo.git("mv", "a.yaml", "b.yaml")
    assert changes_between(Git.discover(repo.root), base, INDEX, SELECT, Limits()).changes == ()


def test_first_commit_without_head_sees_everything_staged(repo: GitRepo) -> None:
    repo.write("a.yaml", to_yaml(manifest("a")))
    repo.git("add", "a.yaml")
    changes = changes_between(Git.discover(repo.root), None, INDEX, SELECT, Limits())
    assert kinds(changes) == [("added", "production/a", "a.yaml")]


def test_selector_limits_which_files_are_read(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("other/broken.yaml", "a: [unclosed\n")
    base = repo.commit("base")
    repo.write("models/a.yaml", to_yaml(manifest("a", version="3.2.2")))
    repo.write("other/broken.yaml", "still: [broken\n")
    only_models = ManifestSelector(("models/**/*.yaml",))
    changes = changes_between(Git.discover(repo.root), base, WORKTREE, only_models, Limits())
    assert kinds(changes) == [("modified", "production/a", "models/a.yaml")]
    with pytest.raises(ManifestError, match="other/broken.yaml:2: invalid YAML"):
        changes_between(Git.discover(repo.root), base, WORKTREE, SELECT, Limits())


def test_paths_mode_outside_git_reads_folders_and_files(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.yaml").write_text(to_yaml(manifest("a")))
    (tmp_path / "m" / "notes.txt").write_text("not yaml")
    (tmp_path / "b.yml").write_text(to_yaml(manifest("b")))
    changes = changes_in_paths(
        tmp_path, [str(tmp_path / "m"), str(tmp_path / "b.yml")], SELECT, Limits(), None
    )
    assert kinds(changes) == [("added", "production/a", "m/a.yaml"), ("added", "production/b", "b.yml")]


def test_the_same_deployment_twice_is_ambiguous() -> None:
    one = read_manifests(to_yaml(manifest("a")).encode(), "one.yaml")
    two = read_manifests(to_yaml(manifest("a")).encode(), "two.yaml")
    with pytest.raises(ManifestError, match="deployment production/a is also defined in one.yaml:1"):
        match_changes([], one + two)
