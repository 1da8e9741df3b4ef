"""Receiving an uploaded file: streamed to disk, limited in size and type."""

from __future__ import annotations

from pathlib import Path, PurePath

from fastapi import HTTPException, Request


def safe_filename(name: str, *, allowed: tuple[str, ...]) -> str:
    """The last component of ``name``, refused (415) unless its suffix is in ``allowed``."""
    base = PurePath(name.replace("\\", "/")).name.strip()
    if not base or base.startswith("."):
        raise HTTPException(422, f"file name {name!r} is not usable; give the file a name")
    if Path(base).suffix.lower() not in allowed:
        raise HTTPException(415, f"{base}: this file type is not accepted; use one of "
                            f"{', '.join(allowed)}")
    return base


async def receive_file(request: Request, target: Path, *, max_bytes: int) -> int:
    """Write the request body to ``target``, at most ``max_bytes`` (413 beyond); return its size.

    The size is checked on the declared ``Content-Length`` first and again while streaming, so a
    too-large upload is refused without being stored.
    """
    declared = request.headers.get("content-length")
    limit_text = f"{max_bytes / 1024 / 1024:,.0f} MiB"
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(413, f"the file is larger than {limit_text}; split or compress "
                            "it, or raise the server's limit")
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise HTTPException(413, f"the file is larger than {limit_text}; split or "
                                        "compress it, or raise the server's limit")
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size == 0:
        target.unlink(missing_ok=True)
        raise HTTPException(422, "the uploaded file is empty; choose the file again")
    return size


__all__ = ["receive_file", "safe_filename"]
