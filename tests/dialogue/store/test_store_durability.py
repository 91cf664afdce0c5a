"""The embedded Redis acknowledges only what is on disk: AOF with `appendfsync always` by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogue.store.embedded import APPENDFSYNC, EmbeddedRedis
from recsys.errors import ConfigError


def test_embedded_server_fsyncs_every_write(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis").start()
    client = server.client()
    try:
        assert APPENDFSYNC == "always"
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "always"}
    finally:
        client.close()
        assert server.close()


def test_fsync_mode_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="appendfsync must be one of"):
        EmbeddedRedis(tmp_path, appendfsync="sometimes")
    assert EmbeddedRedis(tmp_path, appendfsync="everysec").appendfsync == "everysec"
