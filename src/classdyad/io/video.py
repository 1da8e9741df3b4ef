"""Reading a video file's duration, frame rate, codec and size with ``ffprobe`` (FFmpeg)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pandas as pd

from classdyad.errors import DataError, NotFoundError

#: video file types accepted for lessons
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".ogv", ".avi")


@dataclass(frozen=True)
class VideoInfo:
    """What ffprobe reads from a video file (its first video stream)."""

    path: Path
    size_bytes: int
    duration_seconds: float | None
    frame_rate: float | None
    codec: str | None
    width: int | None
    height: int | None

    def to_frame(self) -> pd.DataFrame:
        """One row with every field."""
        return pd.DataFrame([{**self.__dict__, "path": str(self.path)}])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "0"):
        return None
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return None


def read_video_info(path: str | Path, *, ffprobe: str | None = None,
                    timeout: float = 60.0) -> VideoInfo:
    """Read duration, frame rate (average, as a float), codec and frame size of a video file.

    Raises
    ------
    NotFoundError
        If the file or the ``ffprobe`` program is missing.
    DataError
        If the file holds no video stream ffprobe can read.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no video file at {path}; check the path")
    program = ffprobe or shutil.which("ffprobe")
    if program is None:
        raise NotFoundError("ffprobe is not installed; install FFmpeg (Debian: apt-get install "
                            "ffmpeg) to register videos")
    result = subprocess.run(
        [program, "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,avg_frame_rate,r_frame_rate,width,height,duration:format=duration",
         "-of", "json", str(path)], capture_output=True, text=True, timeout=timeout, check=False)
    streams = []
    if result.returncode == 0:
        probed = json.loads(result.stdout or "{}")
        streams = probed.get("streams") or []
    if not streams:
        raise DataError(f"{path.name} is not a video ffprobe can read "
                        f"({result.stderr.strip() or 'no video stream'}); convert it to MP4 "
                        "(H.264) or WebM")
    stream = streams[0]
    duration = stream.get("duration") or probed.get("format", {}).get("duration")
    return VideoInfo(path=path, size_bytes=path.stat().st_size,
                     duration_seconds=float(duration) if duration else None,
                     frame_rate=_rate(stream.get("avg_frame_rate")) or _rate(
                         stream.get("r_frame_rate")),
                     codec=stream.get("codec_name"), width=stream.get("width"),
                     height=stream.get("height"))


__all__ = ["VIDEO_SUFFIXES", "VideoInfo", "read_video_info"]
