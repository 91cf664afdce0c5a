"""The project's exception hierarchy. Every error the project raises on purpose is one of these.

CRSError                       base; the API maps it to 500 only if nothing more specific applies
├── ConfigError                bad settings or an unknown preset / model name           -> 500/400
├── DataError                  a dataset file is malformed; names the file and the line -> 422
│   └── DataFormatError        the directory / file is not in any supported layout
├── DownloadError              a download failed or its checksum did not match           -> 502
├── NotFoundError              something asked for does not exist                       -> 404
│   ├── UnknownUserError       a user id the model was not trained on
│   ├── UnknownItemError       an item id outside the catalog / model
│   └── SessionNotFoundError   a dialogue session that does not exist (or expired)
├── ValidationError            a request is well-formed but its values are not usable   -> 422
├── NotFittedError             a model used before fit() / load()                       -> 503
├── StoreUnavailableError      the state store (Redis) cannot be reached                -> 503
└── ArtifactError              an artifact is missing, stale or from another version    -> 500
"""

from __future__ import annotations

from pathlib import Path


class CRSError(Exception):
    """Base class of every error the project raises on purpose."""


class ConfigError(CRSError):
    """Settings are invalid, or a named preset / model / component does not exist."""


class DataError(CRSError):
    """A dataset file is malformed. The message names the file and, where there is one, the line."""

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.reason = message


class DataFormatError(DataError):
    """A directory or file is not in any supported dataset layout."""


class DownloadError(CRSError):
    """A dataset download failed, or the downloaded file's checksum did not match."""


class NotFoundError(CRSError):
    """Something that was asked for does not exist."""


class UnknownUserError(NotFoundError, KeyError):
    """A user id the model does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown user"


class UnknownItemError(NotFoundError, KeyError):
    """An item id outside the catalog or the model's item range."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown item"


class SessionNotFoundError(NotFoundError):
    """A dialogue session that does not exist or has expired."""


class ValidationError(CRSError, ValueError):
    """A request is well-formed but its values cannot be used (k out of range, empty text, ...)."""


class NotFittedError(CRSError, RuntimeError):
    """A model was used before fit() or load()."""


class ConflictError(CRSError):
    """A write lost a race or contradicts the stored record (a stale profile version, a session id taken)."""


class SessionEndedError(ConflictError):
    """Events were appended to (or a turn requested from) a session that has ended."""


class StoreUnavailableError(CRSError):
    """The state store (Redis) cannot be reached right now; retrying later may succeed."""


class ArtifactError(CRSError):
    """An artifact is missing, stale, or was written by an incompatible version."""
