"""Downloading a bundle archive over HTTPS: certificate checked, size capped, time capped.

Only ``https://`` is fetched, and a redirect may not leave it. The server's certificate is
checked against the system's authorities (or ``cafile``). The job's expected size caps what
is read: a ``Content-Length`` above it is refused before the body is read, and a body that runs
past it is refused at the first byte too many. ``timeout`` bounds each wait for data and
``deadline`` the whole transfer. Messages name the host and path, never the query string,
which in a presigned URL is a credential.
"""

from __future__ import annotations

import http.client
import logging
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from fleet.bundle_errors import BundleRefused, DeploymentFailed

log = logging.getLogger(__name__)

_CHUNK = 1 << 16
USER_AGENT = "retail-edge-kiosk-bundles/1"


@dataclass(frozen=True)
class DownloadLimits:
    """How long a download may wait for data (each read) and take in all, in seconds."""

    timeout: float = 30.0
    deadline: float = 900.0


def shown_url(url: str) -> str:
    """``url`` without its query string and credentials: what messages and logs may show."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}" + (
        parts.path or "/"
    )


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another ``https://`` address."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme != "https":
            raise BundleRefused(f"{shown_url(req.full_url)}: redirected to {shown_url(newurl)}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download_bundle(
    url: str,
    destination: Path,
    *,
    expected_size: int,
    limits: DownloadLimits | None = None,
    cafile: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Fetch ``url`` into the new file ``destination`` (mode 0600), at most ``expected_size``
    bytes. Raises :class:`BundleRefused` (not https, larger than expected) or
    :class:`DeploymentFailed` (network, TLS, HTTP status, timeout, disk, a short body).
    ``progress`` hears "downloaded N of M bytes" after the first chunk and every tenth."""
    limits = limits or DownloadLimits()
    where = shown_url(url)
    if urlsplit(url).scheme != "https":
        raise BundleRefused(f"{where}: only https:// downloads are accepted")
    context = ssl.create_default_context(cafile=str(cafile) if cafile is not None else None)
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), _HttpsOnlyRedirects()
    )
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with (
        network_errors(where, DeploymentFailed),
        opener.open(request, timeout=limits.timeout) as response,
    ):
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > expected_size:
            raise BundleRefused(
                f"{where}: offers {declared} bytes, more than the expected {expected_size}"
            )
        received = _save(response, destination, where, expected_size, limits, progress)
    if received < expected_size:
        raise DeploymentFailed(
            f"{where}: the download ended after {received} of {expected_size} bytes"
        )
    log.info("downloaded %s (%d bytes)", where, received)


@contextmanager
def network_errors(where: str, error: type[Exception]) -> Iterator[None]:
    """Turn what urllib raises for an HTTP status, the network, TLS or a timeout into
    ``error`` with one line naming ``where`` (a URL as :func:`shown_url` gives it)."""
    try:
        yield
    except urllib.error.HTTPError as exc:
        raise error(f"{where}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise error(f"{where}: {_network_reason(exc.reason)}") from None
    except (TimeoutError, ssl.SSLError, ConnectionError, http.client.HTTPException) as exc:
        raise error(f"{where}: {_network_reason(exc)}") from None


def _network_reason(reason: object) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"the server's certificate is not trusted ({reason.verify_message})"
    if isinstance(reason, TimeoutError):
        return "timed out waiting for data"
    return str(reason)


def _save(
    response: http.client.HTTPResponse,
    destination: Path,
    where: str,
    expected: int,
    limits: DownloadLimits,
    progress: Callable[[str], None] | None,
) -> int:
    ends = time.monotonic() + limits.deadline
    received = 0
    reported = -1
    try:
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise DeploymentFailed(f"{destination}: cannot write ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as handle:
        # read1: what has arrived (up to a chunk), so the deadline and the progress are
        # checked as data comes, not only after a whole chunk a slow server drips in
        while chunk := response.read1(min(_CHUNK, expected + 1 - received)):
            received += len(chunk)
            if received > expected:
                raise BundleRefused(f"{where}: sends more than the expected {expected} bytes")
            if time.monotonic() > ends:
                raise DeploymentFailed(f"{where}: not done after {limits.deadline:g} s")
            try:
                handle.write(chunk)
            except OSError as exc:
                raise DeploymentFailed(f"{destination}: cannot write ({exc.strerror})") from None
            if progress is not None and received * 10 // max(expected, 1) > reported:
                reported = received * 10 // max(expected, 1)
                progress(f"downloaded {received} of {expected} bytes")
        try:
            handle.flush()
            os.fsync(handle.fileno())
        except OSError as exc:
            raise DeploymentFailed(f"{destination}: cannot write ({exc.strerror})") from None
    return received
