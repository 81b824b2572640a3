"""What the screenshot and collect-logs jobs send: an HTTPS PUT to a presigned URL, and the
kiosk's log files packed for it.

Only ``https://`` is accepted; the server's certificate is checked against the system's
authorities (or ``cafile``); messages name the host and path, never the query string (in a
presigned URL it is a credential).
"""

from __future__ import annotations

import io
import logging
import ssl
import tarfile
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from fleet.bundle_download import network_errors, shown_url

log = logging.getLogger(__name__)

UPLOAD_TIMEOUT_S = 60.0
#: The most a collect-logs job packs (compressed); more is refused, not cut silently.
LOGS_MAX_BYTES = 64 * 1024 * 1024


class UploadFailed(Exception):
    """The upload did not happen; ``str(error)`` is the one-line reason (no credentials)."""


def upload(
    url: str, data: bytes, content_type: str, *, cafile: Path | None = None,
    timeout: float = UPLOAD_TIMEOUT_S,
) -> None:  # fmt: skip
    """PUT ``data`` to ``url`` (https only); :class:`UploadFailed` names what went wrong."""
    where = shown_url(url)
    if urlsplit(url).scheme != "https":
        raise UploadFailed(f"{where}: only https:// uploads are made")
    context = ssl.create_default_context(cafile=str(cafile) if cafile is not None else None)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(
        url, data=data, method="PUT",
        headers={"Content-Type": content_type, "Content-Length": str(len(data))},
    )  # fmt: skip
    with network_errors(where, UploadFailed), opener.open(request, timeout=timeout) as response:
        response.read()
    log.info("uploaded %d bytes to %s", len(data), where)


def pack_logs(log_dir: Path | None, limit: int = LOGS_MAX_BYTES) -> tuple[bytes, int]:
    """The files of ``log_dir`` (``*.log`` and their rotations) as a tar.gz in memory, and
    how many; :class:`UploadFailed` when there are none or they pack to more than ``limit``."""
    if log_dir is None:
        raise UploadFailed("the kiosk has no log folder ([paths] log_dir)")
    try:
        files = sorted(p for p in log_dir.iterdir() if p.is_file() and ".log" in p.name)
    except OSError as exc:
        raise UploadFailed(f"{log_dir}: cannot be read ({exc.strerror or exc})") from None
    if not files:
        raise UploadFailed(f"{log_dir}: no log files to collect")
    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w:gz") as packed:
            for path in files:
                packed.add(path, arcname=path.name)
    except OSError as exc:
        raise UploadFailed(f"{log_dir}: cannot be packed ({exc.strerror or exc})") from None
    if buffer.tell() > limit:
        raise UploadFailed(f"{log_dir}: the logs pack to {buffer.tell()} bytes, over {limit}")
    return buffer.getvalue(), len(files)
