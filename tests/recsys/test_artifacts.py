"""The artifact store: builds once, rebuilds when inputs or params change, refuses corrupt artifacts."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from recsys import artifacts
from recsys.artifacts import ArtifactStore, file_fingerprint, input_fingerprints
from recsys.errors import ArtifactError
from recsys.settings import get_settings


class Builder:
    """Counts its calls; returns a new value each time."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, int]:
        self.calls += 1
        return {"value": 41 + self.calls}


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    path = tmp_path / "input.csv"
    path.write_text("a,b\n1,2\n")
    return path


def test_store_lives_under_settings_artifacts_dir() -> None:
    store = ArtifactStore()
    assert store.root == get_settings().artifacts_dir / f"v{artifacts.SCHEMA_VERSION}"


def test_second_call_loads_without_building(tmp_path: Path, inputs: Path) -> None:
    store, build = ArtifactStore(root=tmp_path / "art"), Builder()
    first = store.fetch("table", [inputs], build)
    second = store.fetch("table", [inputs], build)
    assert build.calls == 1
    assert (first.built, second.built) == (True, False)
    assert second.value == first.value == {"value": 42}
    assert second.fingerprint == first.fingerprint
    manifest = json.loads((first.path / "manifest.json").read_text())
    assert manifest["schema_version"] == artifacts.SCHEMA_VERSION
    assert manifest["input_files"][0]["sha256"] and "payload.pkl" in manifest["files"]
    # a new store object (another process) finds it too
    assert ArtifactStore(root=tmp_path / "art").get_or_build("table", [inputs], build) == {"value": 42}
    assert build.calls == 1


def test_changed_input_or_params_rebuild(tmp_path: Path, inputs: Path) -> None:
    store, build = ArtifactStore(root=tmp_path / "art"), Builder()
    store.get_or_build("table", [inputs], build)
    inputs.write_text("a,b\n1,3\n")  # same size, different content
    assert store.get_or_build("table", [inputs], build) == {"value": 43}
    assert store.get_or_build("table", [inputs], build, params={"k": 2}) == {"value": 44}
    assert store.get_or_build("table", [inputs], build, params={"k": 2}) == {"value": 44}
    assert store.get_or_build("table", [inputs], build, params={"k": 2}, force=True) == {"value": 45}
    assert build.calls == 4


def test_directory_inputs_cover_every_file(tmp_path: Path) -> None:
    data = tmp_path / "release"
    data.mkdir()
    (data / "movies.csv").write_text("x")
    (data / ".hidden").write_text("ignored")
    store, build = ArtifactStore(root=tmp_path / "art"), Builder()
    store.get_or_build("table", [data], build)
    (data / ".hidden").write_text("still ignored")
    store.get_or_build("table", [data], build)
    assert build.calls == 1
    (data / "tags.csv").write_text("new file")
    store.get_or_build("table", [data], build)
    assert build.calls == 2


def test_missing_input_is_an_artifact_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        ArtifactStore(root=tmp_path).get_or_build("table", [tmp_path / "nope.csv"], Builder())


def test_corrupt_payload_rebuilds_with_a_warning_and_load_raises(
    tmp_path: Path, inputs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, build = ArtifactStore(root=tmp_path / "art"), Builder()
    first = store.fetch("table", [inputs], build)
    (first.path / "payload.pkl").write_bytes(b"garbage")
    with pytest.raises(ArtifactError, match="checksum"):
        store.load("table", first.fingerprint)
    with caplog.at_level(logging.WARNING, logger="recsys.artifacts"):
        again = store.fetch("table", [inputs], build)
    assert again.built and build.calls == 2 and "rebuilding artifact table" in caplog.text
    assert store.load("table", first.fingerprint).value == {"value": 43}


def test_foreign_schema_version_is_refused(tmp_path: Path, inputs: Path) -> None:
    store, build = ArtifactStore(root=tmp_path / "art"), Builder()
    first = store.fetch("table", [inputs], build)
    manifest_path = first.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["schema_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="schema version 999"):
        store.load("table")
    assert store.fetch("table", [inputs], build).built and build.calls == 2


def test_unreadable_manifest_and_unknown_artifacts(tmp_path: Path, inputs: Path) -> None:
    store = ArtifactStore(root=tmp_path / "art")
    with pytest.raises(ArtifactError, match="no artifact 'table'"):
        store.load("table")
    first = store.fetch("table", [inputs], Builder())
    (first.path / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="unreadable manifest"):
        store.load("table", first.fingerprint)
    with pytest.raises(ArtifactError, match="invalid artifact name"):
        store.load("../etc", "x")


def test_prune_keeps_the_newest_versions(tmp_path: Path, inputs: Path) -> None:
    store, build = ArtifactStore(root=tmp_path / "art", keep=2), Builder()
    for k in range(4):
        store.get_or_build("table", [inputs], build, params={"k": k})
    versions = store.versions("table")
    assert len(versions) == 2
    assert store.load("table").value == {"value": 45}  # the newest


def test_large_files_hash_their_edges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "FULL_HASH_LIMIT", 10)
    monkeypatch.setattr(artifacts, "EDGE_BYTES", 4)
    path = tmp_path / "big.bin"
    path.write_bytes(b"0123456789abcdef")
    before = file_fingerprint(path)
    assert "sha256" not in before and before["size"] == 16
    path.write_bytes(b"0123XXXXXXXXcdef")  # only the middle changes ...
    os.utime(path, ns=(1, 1))  # ... and the modification time with it
    assert file_fingerprint(path) != before
    assert [e["file"] for e in input_fingerprints([path])] == ["big.bin"]
