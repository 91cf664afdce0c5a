"""A versioned store of built tables and models, rebuilt only when their inputs change.

Layout::

    <settings.artifacts_dir>/v<SCHEMA_VERSION>/<name>/<fingerprint>/
        manifest.json      what was built, from what, by which code (see below)
        <payload files>    written by the artifact's codec (pickle by default)

The fingerprint is a hash of: the artifact name, the store's schema version, the package version, the
build parameters (JSON) and every input file's fingerprint. A file's fingerprint is its size and full
SHA-256 when it is small (<= 32 MiB), else its size, mtime and the SHA-256 of its first and last MiB: cheap
for ml-25m's 650 MB ratings file and still catching any edit that changes size, time or either end.
Directories stand for every regular file below them (hidden files excluded).

`ArtifactStore.get_or_build(name, inputs, builder)` returns the stored value when an artifact with the
same fingerprint exists and is intact (manifest readable, same schema version, payload checksums match);
otherwise it calls `builder()`, stores the result atomically (temporary directory + rename) and returns
it. A corrupt or foreign artifact is rebuilt with a warning; `ArtifactStore.load` raises ArtifactError.
Later stages chain artifacts by passing an upstream artifact's fingerprint in their `params`.

Payloads are trusted local files (pickle is used by default): never point the store at files you did
not write yourself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from recsys.errors import ArtifactError
from recsys.settings import Settings, get_settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
FULL_HASH_LIMIT = 32 * 1024 * 1024
EDGE_BYTES = 1024 * 1024

T = TypeVar("T")


def package_version() -> str:
    """The installed `crs` version ("unknown" when running from an uninstalled tree)."""
    try:
        return importlib_metadata.version("crs")
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


class Codec(Protocol[T]):
    """Writes a value into an artifact directory and reads it back."""

    name: str

    def dump(self, value: T, directory: Path) -> None: ...

    def load(self, directory: Path) -> T: ...


class PickleCodec:
    """Any picklable value, in `payload.pkl`."""

    name = "pickle"
    filename = "payload.pkl"

    def dump(self, value: Any, directory: Path) -> None:
        with open(directory / self.filename, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, directory: Path) -> Any:
        with open(directory / self.filename, "rb") as fh:
            return pickle.load(fh)


@dataclass(frozen=True)
class Artifact(Generic[T]):
    """A stored value with where it lives and whether this call built it."""

    name: str
    fingerprint: str
    path: Path
    value: T
    built: bool
    manifest: dict[str, Any] = field(default_factory=dict)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Size and content hash of one file (full SHA-256 when small; else mtime + first/last MiB)."""
    stat = path.stat()
    if stat.st_size <= FULL_HASH_LIMIT:
        return {"size": stat.st_size, "sha256": _sha256_file(path)}
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        digest.update(fh.read(EDGE_BYTES))
        fh.seek(-EDGE_BYTES, os.SEEK_END)
        digest.update(fh.read(EDGE_BYTES))
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "edges_sha256": digest.hexdigest()}


def input_fingerprints(inputs: Sequence[Path | str]) -> list[dict[str, Any]]:
    """One entry per input file (directories expanded, sorted). Missing inputs raise ArtifactError."""
    entries: list[dict[str, Any]] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            for f in files:
                rel = f.relative_to(path).as_posix()
                entries.append({"input": path.name, "file": rel, **file_fingerprint(f)})
        elif path.is_file():
            entries.append({"input": path.name, "file": path.name, **file_fingerprint(path)})
        else:
            raise ArtifactError(f"input {path} does not exist: cannot build or check the artifact")
    return entries


def fingerprint_of(name: str, inputs: list[dict[str, Any]], params: Mapping[str, Any]) -> str:
    """The artifact's identity: name, store schema, package version, params and input fingerprints."""
    blob = json.dumps(
        {
            "name": name,
            "schema_version": SCHEMA_VERSION,
            "code_version": package_version(),
            "params": params,
            "inputs": inputs,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


class ArtifactStore:
    """Built tables and models under `<artifacts_dir>/v<SCHEMA_VERSION>/`, keyed by name + fingerprint."""

    def __init__(self, settings: Settings | None = None, *, root: Path | None = None, keep: int = 3) -> None:
        """`root` overrides the settings' directory; `keep` = versions of one name kept after a build."""
        base = root if root is not None else (settings or get_settings()).artifacts_dir
        self.root = Path(base) / f"v{SCHEMA_VERSION}"
        self.keep = keep

    def path_of(self, name: str, fingerprint: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ArtifactError(f"invalid artifact name {name!r}")
        return self.root / name / fingerprint

    def fetch(
        self,
        name: str,
        inputs: Sequence[Path | str],
        builder: Callable[[], T],
        *,
        params: Mapping[str, Any] | None = None,
        codec: Codec[T] | None = None,
        force: bool = False,
    ) -> Artifact[T]:
        """The artifact for these inputs and params: loaded if stored and intact, else built and stored."""
        codec = codec or PickleCodec()
        params = dict(params or {})
        files = input_fingerprints(inputs)
        fingerprint = fingerprint_of(name, files, params)
        path = self.path_of(name, fingerprint)
        if path.exists() and not force:
            try:
                return self._read(name, path, codec)
            except ArtifactError as exc:
                log.warning("rebuilding artifact %s: %s", name, exc)
        start = time.perf_counter()
        value = builder()
        seconds = time.perf_counter() - start
        manifest = {
            "format": "crs-artifact",
            "schema_version": SCHEMA_VERSION,
            "code_version": package_version(),
            "name": name,
            "fingerprint": fingerprint,
            "codec": codec.name,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "created_ns": time.time_ns(),
            "build_seconds": round(seconds, 3),
            "params": params,
            "inputs": [str(Path(p).resolve()) for p in inputs],
            "input_files": files,
        }
        self._write(path, value, codec, manifest)
        self.prune(name, keep=self.keep)
        return Artifact(name, fingerprint, path, value, True, manifest)

    def get_or_build(
        self,
        name: str,
        inputs: Sequence[Path | str],
        builder: Callable[[], T],
        *,
        params: Mapping[str, Any] | None = None,
        codec: Codec[T] | None = None,
        force: bool = False,
    ) -> T:
        """Like `fetch`, returning only the value."""
        return self.fetch(name, inputs, builder, params=params, codec=codec, force=force).value

    def load(
        self, name: str, fingerprint: str | None = None, *, codec: Codec[T] | None = None
    ) -> Artifact[T]:
        """A stored artifact (the newest of `name` when no fingerprint is given); ArtifactError if it is
        missing, corrupt or from another schema version."""
        if fingerprint is None:
            versions = self.versions(name)
            if not versions:
                raise ArtifactError(f"no artifact {name!r} in {self.root}; build it first (crs data prepare)")
            path = versions[0]
        else:
            path = self.path_of(name, fingerprint)
            if not path.is_dir():
                raise ArtifactError(f"no artifact {name!r} with fingerprint {fingerprint} in {self.root}")
        return self._read(name, path, codec or PickleCodec())

    def versions(self, name: str) -> list[Path]:
        """Stored directories of `name`, newest first."""
        base = self.root / name
        if not base.is_dir():
            return []
        dirs = [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")]

        def written(p: Path) -> int:
            try:
                return int(json.loads((p / MANIFEST).read_text(encoding="utf-8"))["created_ns"])
            except (OSError, ValueError, KeyError, TypeError):
                return 0  # unreadable: oldest, pruned first

        return sorted(dirs, key=written, reverse=True)

    def prune(self, name: str, keep: int) -> list[Path]:
        """Delete all but the `keep` newest versions of `name`; returns what was deleted."""
        stale = self.versions(name)[keep:]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return stale

    def _read(self, name: str, path: Path, codec: Codec[T]) -> Artifact[T]:
        manifest_path = path / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{manifest_path}: unreadable manifest ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != "crs-artifact":
            raise ArtifactError(f"{manifest_path}: not a crs artifact manifest")
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise ArtifactError(
                f"{manifest_path}: schema version {manifest.get('schema_version')!r}, this code reads "
                f"{SCHEMA_VERSION}"
            )
        if manifest.get("name") != name or manifest.get("codec") != codec.name:
            raise ArtifactError(
                f"{manifest_path}: holds {manifest.get('name')!r} ({manifest.get('codec')}), "
                f"expected {name!r} ({codec.name})"
            )
        for rel, expected in manifest.get("files", {}).items():
            file = path / rel
            if not file.is_file() or _sha256_file(file) != expected:
                raise ArtifactError(f"{file}: missing or corrupt (checksum mismatch)")
        try:
            value = codec.load(path)
        except Exception as exc:  # a payload that no longer unpickles is a stale artifact
            raise ArtifactError(f"{path}: cannot read payload ({type(exc).__name__}: {exc})") from exc
        return Artifact(name, manifest.get("fingerprint", path.name), path, value, False, manifest)

    def _write(self, path: Path, value: T, codec: Codec[T], manifest: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            codec.dump(value, tmp)
            manifest["files"] = {
                p.relative_to(tmp).as_posix(): _sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
            if path.exists():  # a corrupt or forced version: replace it
                shutil.rmtree(path)
            try:
                os.replace(tmp, path)
            except OSError:  # another process stored the same artifact meanwhile: keep theirs
                if not (path / MANIFEST).is_file():
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
