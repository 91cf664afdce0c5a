"""Dataset download against a local HTTP server: progress to disk, checksums, resume, unpacking, skipping."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from recsys.data.download import DATASETS, download_dataset, parse_checksum, unpack
from recsys.data.movielens import load_movielens
from recsys.data.redial import load_redial_dialogues
from recsys.errors import ConfigError, DownloadError, ValidationError


@dataclass
class FileServer:
    """Serves `files` (URL path -> bytes) on 127.0.0.1, honouring Range requests; logs every request."""

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    base_url: str = ""

    def gets(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


@pytest.fixture
def server() -> Iterator[FileServer]:
    state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Range")))
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            status, start = 200, 0
            if (spec := self.headers.get("Range")) and spec.startswith("bytes="):
                start = int(spec[6:].split("-")[0])
                if start >= len(body):
                    self.send_error(416)
                    return
                status = 206
            self.send_response(status)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            self.wfile.write(body[start:])

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def _ml100k_zip(top: str) -> bytes:
    """A release in ml-100k layout: 2 movies, 2 users, 3 ratings, under the folder `top`/."""
    flags = "|".join(["0"] * 18 + ["1"])
    return _zip(
        {
            f"{top}/u.item": (
                f"1|Toy Story (1995)|01-Jan-1995||url|{flags}\n2|Café (1993)|||url|{flags}\n"
            ).encode("latin-1"),
            f"{top}/u.data": "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n",
            f"{top}/README": "tiny",
        }
    )


@pytest.fixture
def small_release(server: FileServer) -> bytes:
    """ml-latest-small.zip (an ml-100k-layout tiny release) and its GroupLens-style .md5 file."""
    archive = _ml100k_zip("ml-latest-small")
    server.files["/ml-latest-small.zip"] = archive
    digest = hashlib.md5(archive).hexdigest()
    server.files["/ml-latest-small.zip.md5"] = f"MD5 (ml-latest-small.zip) = {digest}\n".encode()
    return archive


def test_download_verifies_unpacks_and_loads(
    tmp_path: Path, server: FileServer, small_release: bytes
) -> None:
    result = download_dataset("ml-latest-small", tmp_path, base_url=server.base_url, progress=False)
    assert result.downloaded and result.unpacked
    assert result.archive == tmp_path / "ml-latest-small.zip"
    assert result.archive.read_bytes() == small_release
    assert result.directory == tmp_path / "ml-latest-small"
    assert str(result.checksum) == f"md5:{hashlib.md5(small_release).hexdigest()}"
    assert result.checksum.origin.endswith("/ml-latest-small.zip.md5")
    assert not (tmp_path / "ml-latest-small.zip.part").exists()
    data = load_movielens(result.directory)  # the top-level folder of the zip became <to>/<name>
    assert data.layout == "ml-100k"
    assert (data.interactions.n_users, data.interactions.n_items, len(data.interactions)) == (2, 2, 3)
    assert data.items.frame["title"].tolist() == ["Toy Story", "Café"]


def test_second_call_downloads_nothing(tmp_path: Path, server: FileServer, small_release: bytes) -> None:
    download_dataset("ml-latest-small", tmp_path, base_url=server.base_url, progress=False)
    again = download_dataset("ml-latest-small", tmp_path, base_url=server.base_url, progress=False)
    assert (again.downloaded, again.unpacked) == (False, False)
    assert server.gets("/ml-latest-small.zip") == 1
    (again.directory / "u.data").unlink()  # a damaged unpacked copy is restored from the archive
    third = download_dataset("ml-latest-small", tmp_path, base_url=server.base_url, progress=False)
    assert (third.downloaded, third.unpacked) == (False, True)
    assert (third.directory / "u.data").is_file()
    assert server.gets("/ml-latest-small.zip") == 1


def test_checksum_mismatch_deletes_the_file(tmp_path: Path, server: FileServer, small_release: bytes) -> None:
    server.files["/ml-latest-small.zip.md5"] = b"MD5 (ml-latest-small.zip) = " + b"0" * 32 + b"\n"
    with pytest.raises(DownloadError, match="md5 checksum mismatch") as info:
        download_dataset("ml-latest-small", tmp_path, base_url=server.base_url, progress=False)
    assert "ml-latest-small.zip.md5" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_registry_checksum_wins_over_the_served_one(tmp_path: Path, server: FileServer) -> None:
    archive = _ml100k_zip("ml-100k")  # not the official ml-100k.zip: its MD5 differs from GroupLens'
    server.files["/ml-100k.zip"] = archive
    server.files["/ml-100k.zip.md5"] = hashlib.md5(archive).hexdigest().encode()
    with pytest.raises(DownloadError, match=DATASETS["ml-100k"].md5 or "registry"):
        download_dataset("ml-100k", tmp_path, base_url=server.base_url, progress=False)
    assert not any(tmp_path.iterdir())
    result = download_dataset(
        "ml-100k",
        tmp_path,
        base_url=server.base_url,
        checksum=hashlib.sha256(archive).hexdigest(),
        progress=False,
    )
    assert result.checksum.algorithm == "sha256" and result.checksum.origin == "argument"
    assert load_movielens(result.directory).layout == "ml-100k"


def test_http_404_names_the_url(tmp_path: Path, server: FileServer) -> None:
    with pytest.raises(DownloadError) as info:
        download_dataset("ml-32m", tmp_path, base_url=server.base_url, progress=False)
    assert str(info.value) == f"{server.base_url}/ml-32m.zip.md5: HTTP 404"
    server.files["/ml-32m.zip.md5"] = b"0" * 32
    with pytest.raises(DownloadError, match=rf"^{server.base_url}/ml-32m.zip: HTTP 404$"):
        download_dataset("ml-32m", tmp_path, base_url=server.base_url, progress=False)
    assert not any(p.is_file() for p in tmp_path.iterdir())


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="ConnectError"):
        download_dataset(
            "ml-latest-small", tmp_path, base_url="http://127.0.0.1:9", timeout=2, progress=False
        )


def test_partial_download_is_resumed(tmp_path: Path, server: FileServer, small_release: bytes) -> None:
    (tmp_path / "ml-latest-small.zip.part").write_bytes(small_release[:100])
    result = download_dataset("ml-latest-small", tmp_path, base_url=server.base_url, progress=False)
    assert result.archive.read_bytes() == small_release
    assert ("/ml-latest-small.zip", "bytes=100-") in server.requests


def test_existing_archive_with_wrong_content_is_replaced(
    tmp_path: Path, server: FileServer, small_release: bytes
) -> None:
    (tmp_path / "ml-latest-small.zip").write_bytes(b"not the archive")
    result = download_dataset("ml-latest-small", tmp_path, base_url=server.base_url, progress=False)
    assert result.downloaded and result.archive.read_bytes() == small_release


def test_redial_archive_with_files_at_the_root(tmp_path: Path, server: FileServer, redial_file: Path) -> None:
    archive = _zip(
        {
            "train_data.jsonl": redial_file.read_bytes(),
            "test_data.jsonl": redial_file.read_bytes(),
            "movies_with_mentions.csv": "movieId,movieName,nbMentions\n196336,Scarface  (1983),2\n",
        }
    )
    server.files["/redial_dataset.zip"] = archive
    result = download_dataset(
        "redial",
        tmp_path,
        base_url=server.base_url,
        checksum=f"md5:{hashlib.md5(archive).hexdigest()}",
        progress=False,
    )
    assert result.directory == tmp_path / "redial"
    assert sorted(p.name for p in result.directory.iterdir()) == [
        "movies_with_mentions.csv", "test_data.jsonl", "train_data.jsonl"
    ]  # fmt: skip
    assert len(load_redial_dialogues(result.directory / "test_data.jsonl")) == 3


def test_unknown_dataset_and_bad_checksum_text(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown dataset 'ml-7m'; known: ml-latest-small"):
        download_dataset("ml-7m", tmp_path)
    with pytest.raises(ValidationError):
        parse_checksum("md5:1234")
    assert str(parse_checksum("SHA256:" + "A" * 64)) == "sha256:" + "a" * 64


def test_unpack_rejects_unsafe_paths(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip({"../outside.txt": "x"}))
    with pytest.raises(DownloadError, match="unsafe member path"):
        unpack(archive, tmp_path / "target", progress=False)
    assert not (tmp_path / "outside.txt").exists()


def test_corrupt_archive_is_reported(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(DownloadError, match="not a valid zip archive"):
        unpack(archive, tmp_path / "target", progress=False)


def test_cli_download_uses_base_url_from_the_environment(
    tmp_path: Path, server: FileServer, small_release: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from recsys.cli import app

    monkeypatch.setenv("CRS_DOWNLOAD_BASE_URL", server.base_url)
    args = ["data", "download", "ml-latest-small", "--to", str(tmp_path), "--quiet"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    digest = hashlib.md5(small_release).hexdigest()
    assert first.stdout.splitlines() == [
        f"{tmp_path / 'ml-latest-small.zip'}: downloaded (md5:{digest} verified)",
        f"{tmp_path / 'ml-latest-small'}: unpacked",
        f"use it with: CRS_MOVIELENS_DIR={tmp_path / 'ml-latest-small'}",
    ]
    second = CliRunner().invoke(app, args)
    assert "already present, not downloaded again" in second.stdout
    assert server.gets("/ml-latest-small.zip") == 1
    missing = CliRunner().invoke(app, ["data", "download", "ml-32m", "--to", str(tmp_path), "--quiet"])
    assert isinstance(missing.exception, DownloadError)
