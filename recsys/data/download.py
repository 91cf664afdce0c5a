"""Download and unpack the public datasets from their official URLs, verified by checksum.

`download_dataset("ml-100k", Path("data/movielens"))` fetches the archive to `<to>/<archive>.zip` (via a
`.part` file that a later call resumes with an HTTP Range request, renamed only once complete and
verified), checks it, and unpacks it into `<to>/<name>/` (a single top-level folder in the archive, such
as GroupLens' "ml-100k/", is dropped). A second call finds the verified archive and the unpacked files and
downloads nothing.

Checksum, first that applies: the `checksum` argument ("md5:<hex>", "sha256:<hex>" or bare hex); the
registry's hard-coded value for the archive; the `<url>.md5` file the publisher serves next to the archive
(GroupLens does). A mismatch deletes the file and raises DownloadError. A source with none of these is
checked for zip integrity only, with a warning.

`base_url` (CLI: --base-url or CRS_DOWNLOAD_BASE_URL) replaces the directory of every URL: the archive is
fetched from `<base_url>/<archive name>`, e.g. a mirror or a test server.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx
from tqdm import tqdm

from recsys.errors import ConfigError, DownloadError, ValidationError

log = logging.getLogger(__name__)

GROUPLENS = "https://files.grouplens.org/datasets/movielens"
CHUNK = 1 << 20


@dataclass(frozen=True)
class DatasetSource:
    """Where a dataset's archive lives and how to verify it."""

    name: str
    url: str
    kind: str  # "movielens" | "redial"
    md5: str | None = None
    sha256: str | None = None
    md5_file: bool = False  # the publisher serves "<url>.md5"

    @property
    def archive_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    def url_at(self, base_url: str | None) -> str:
        """The archive's URL, or its URL under a mirror `base_url`."""
        return f"{base_url.rstrip('/')}/{self.archive_name}" if base_url else self.url


def _grouplens(name: str, md5: str | None = None) -> DatasetSource:
    return DatasetSource(name, f"{GROUPLENS}/{name}.zip", "movielens", md5=md5, md5_file=True)


#: Known datasets. MD5s are GroupLens' published values for the frozen releases; ml-latest* change over
#: time and are checked against GroupLens' .md5 files. The ReDial SHA-256 is the one ParlAI pins.
DATASETS: dict[str, DatasetSource] = {
    s.name: s
    for s in (
        _grouplens("ml-latest-small"),
        _grouplens("ml-latest"),
        _grouplens("ml-100k", md5="0e33842e24a9c977be4e0107933c0723"),
        _grouplens("ml-1m", md5="c4d9eecfca2ab87c1945afe126590906"),
        _grouplens("ml-10m", md5="ce571fd55effeba0271552578f2648bd"),
        _grouplens("ml-20m", md5="cd245b17a1ae2cc31bb14903e1204af3"),
        _grouplens("ml-25m", md5="6b51fb2759a8657d3bfcbfc42b592ada"),
        _grouplens("ml-32m"),
        DatasetSource(
            "redial",
            "https://github.com/ReDialData/website/raw/data/redial_dataset.zip",
            "redial",
            sha256="b48756681ec6f84e0af36979c5e9baa21ea8d9e7036b8764ea9b787bb0baf69b",
        ),
    )
}


@dataclass(frozen=True)
class Checksum:
    algorithm: str  # "md5" | "sha256"
    hexdigest: str
    origin: str  # where the expected value came from

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hexdigest}"


@dataclass(frozen=True)
class DownloadResult:
    """What `download_dataset` did: the archive, the unpacked directory, whether it fetched anything."""

    name: str
    archive: Path
    directory: Path
    downloaded: bool
    unpacked: bool
    checksum: Checksum | None


def parse_checksum(text: str, origin: str = "argument") -> Checksum:
    """ "md5:<32 hex>", "sha256:<64 hex>", or bare hex (the length says which)."""
    algorithm, _, digest = text.strip().lower().rpartition(":")
    if not algorithm:
        algorithm = {32: "md5", 64: "sha256"}.get(len(digest), "")
    lengths = {"md5": 32, "sha256": 64}
    if algorithm not in lengths or not re.fullmatch(rf"[0-9a-f]{{{lengths[algorithm]}}}", digest):
        raise ValidationError(f"checksum {text!r}: expected md5:<32 hex digits> or sha256:<64 hex digits>")
    return Checksum(algorithm, digest, origin)


def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _expected(source: DatasetSource, url: str, checksum: str | None, client: httpx.Client) -> Checksum | None:
    if checksum:
        return parse_checksum(checksum)
    if source.sha256:
        return Checksum("sha256", source.sha256, "registry")
    if source.md5:
        return Checksum("md5", source.md5, "registry")
    if not source.md5_file:
        return None
    md5_url = f"{url}.md5"
    response = _get(client, md5_url)
    match = re.search(r"\b[0-9a-fA-F]{32}\b", response.text)
    if match is None:
        raise DownloadError(f"{md5_url}: no MD5 digest in the checksum file")
    return Checksum("md5", match.group(0).lower(), md5_url)


def _get(client: httpx.Client, url: str) -> httpx.Response:
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise DownloadError(f"{url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise DownloadError(f"{url}: HTTP {response.status_code}")
    return response


def _fetch(client: httpx.Client, url: str, archive: Path, progress: bool) -> None:
    """Stream `url` into `<archive>.part`, resuming a previous partial download when the server allows."""
    part = archive.with_name(archive.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:  # the partial file is already complete
                return
            if response.status_code == 206 and offset:
                mode = "ab"
            elif response.status_code == 200:
                mode, offset = "wb", 0
            else:
                raise DownloadError(f"{url}: HTTP {response.status_code}")
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() else None
            with (
                part.open(mode) as out,
                tqdm(
                    total=total,
                    initial=offset,
                    unit="B",
                    unit_scale=True,
                    desc=archive.name,
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
    except httpx.HTTPError as exc:
        raise DownloadError(f"{url}: {type(exc).__name__}: {exc} (run again to resume)") from exc


def _verify(path: Path, expected: Checksum, url: str) -> None:
    actual = file_digest(path, expected.algorithm)
    if actual != expected.hexdigest:
        path.unlink(missing_ok=True)
        raise DownloadError(
            f"{url}: {expected.algorithm} checksum mismatch: got {actual}, expected {expected.hexdigest} "
            f"(from {expected.origin}); the downloaded file was deleted"
        )


def _members(zf: zipfile.ZipFile, archive: Path) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """(member, path relative to the target) of every file, the single top-level folder dropped."""
    infos = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    paths = [PurePosixPath(i.filename) for i in infos]
    for p in paths:
        if p.is_absolute() or ".." in p.parts:
            raise DownloadError(f"{archive}: unsafe member path {str(p)!r}")
    tops = {p.parts[0] for p in paths}
    if len(tops) == 1 and all(len(p.parts) > 1 for p in paths):
        paths = [PurePosixPath(*p.parts[1:]) for p in paths]
    return list(zip(infos, paths, strict=True))


def unpack(archive: Path, target: Path, *, progress: bool = True) -> bool:
    """Unpack `archive` into `target`; False when every file is already there with its size."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _members(zf, archive)
            if all(
                (target / rel).is_file() and (target / rel).stat().st_size == i.file_size
                for i, rel in members
            ):
                return False
            staging = target.parent / f".{target.name}.unpacking"
            shutil.rmtree(staging, ignore_errors=True)
            total = sum(i.file_size for i, _ in members)
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=f"unpacking {archive.name}", disable=not progress
            ) as bar:
                for info, rel in members:
                    dest = staging / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, dest.open("wb") as out:
                        shutil.copyfileobj(src, out, CHUNK)
                    bar.update(info.file_size)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise DownloadError(f"{archive}: not a valid zip archive: {exc}") from exc
    for _, rel in members:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, dest)
    shutil.rmtree(staging, ignore_errors=True)
    return True


def download_dataset(
    name: str,
    to: Path,
    *,
    base_url: str | None = None,
    checksum: str | None = None,
    force: bool = False,
    progress: bool = True,
    timeout: float = 60.0,
    sources: dict[str, DatasetSource] | None = None,
) -> DownloadResult:
    """Download dataset `name` (a key of DATASETS) into directory `to` and unpack it into `to/<name>`.

    Raises ConfigError for an unknown name, DownloadError for an HTTP error, a network failure or a
    checksum mismatch (the bad file is deleted; an interrupted download is resumed by the next call).
    """
    sources = DATASETS if sources is None else sources
    if name not in sources:
        raise ConfigError(f"unknown dataset {name!r}; known: {', '.join(sources)}")
    source = sources[name]
    url = source.url_at(base_url)
    to = Path(to)
    archive = to / source.archive_name
    try:
        to.mkdir(parents=True, exist_ok=True)
        with httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=True,
            headers={"User-Agent": "crs-dataset-downloader"},
        ) as client:
            expected = _expected(source, url, checksum, client)
            downloaded = _ensure_archive(client, url, archive, expected, force=force, progress=progress)
        unpacked = unpack(archive, to / name, progress=progress)
    except OSError as exc:
        raise DownloadError(f"{name}: cannot write under {to}: {exc}") from exc
    if expected is None:
        log.warning("%s: no checksum is known for %s; only the zip's integrity was checked", name, url)
    return DownloadResult(name, archive, to / name, downloaded, unpacked, expected)


def _ensure_archive(
    client: httpx.Client, url: str, archive: Path, expected: Checksum | None, *, force: bool, progress: bool
) -> bool:
    """Make `archive` hold the verified file; True when it had to be downloaded."""
    if force:
        archive.with_name(archive.name + ".part").unlink(missing_ok=True)
    elif archive.is_file():
        if expected is None and zipfile.is_zipfile(archive):
            return False
        if expected is not None and file_digest(archive, expected.algorithm) == expected.hexdigest:
            return False
        log.warning("%s exists but does not match; downloading it again", archive)
    _fetch(client, url, archive, progress)
    part = archive.with_name(archive.name + ".part")
    if expected is not None:
        _verify(part, expected, url)
    elif not zipfile.is_zipfile(part):
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url}: the downloaded file is not a zip archive; it was deleted")
    os.replace(part, archive)
    return True
