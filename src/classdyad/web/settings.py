"""Settings of one running web application (from ``classdyad serve`` options or a test)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024


@dataclass(frozen=True)
class WebSettings:
    """How the web application runs.

    Parameters
    ----------
    database
        A SQLite file path or a database URL.
    study
        The study served (its name); ``None``: the only study in the database.
    media_folder
        Where uploaded videos are stored, and the only folder from which videos already on the
        server may be registered (default: ``videos`` beside a SQLite file, else ``./videos``).
    session_minutes
        How long a login lasts.
    secure_cookies
        Send the session cookie only over HTTPS (set it when a proxy terminates TLS).
    max_import_bytes, max_video_bytes
        The largest upload accepted for an import file and for a video.
    login_failures_per_minute
        Failed logins allowed per account per minute; more get 429.
    """

    database: str
    study: str | None = None
    media_folder: Path | None = None
    session_minutes: int = 8 * 60
    secure_cookies: bool = False
    max_import_bytes: int = 20 * MiB
    max_video_bytes: int = 4096 * MiB
    login_failures_per_minute: int = 5
    extra: dict[str, str] = field(default_factory=dict)

    def media_path(self) -> Path:
        """The media folder (created on first use)."""
        if self.media_folder is not None:
            return Path(self.media_folder)
        if "://" not in self.database:
            return Path(self.database).expanduser().resolve().parent / "videos"
        return Path("videos").resolve()


__all__ = ["WebSettings"]
