"""Signed bundles and a local HTTPS server for the fleet/bundles tests (plain helpers)."""

from __future__ import annotations

import http.server
import io
import ssl
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from designer_import.bundle import build_bundle
from designer_import.signed_bundle import pack_bundle, sign_archive
from fleet.bundles import BundleOffer
from localservers import TestPki

DRAWINGS = Path(__file__).resolve().parent.parent / "fixtures" / "drawio"


@dataclass(frozen=True)
class Signed:
    """An archive, the offer a deploy job would make for it, and the key that signed it."""

    archive: Path
    offer: BundleOffer
    key: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.key.public_key()


def sign(archive: Path, bundle_id: str, key: Ed25519PrivateKey, url: str | None = None) -> Signed:
    """Sign any archive (a good one or a hostile one) as ``bundle_id``."""
    signature = sign_archive(archive, key, bundle_id)
    offer = BundleOffer(bundle_id, signature.size, signature.sha256, signature, url)
    return Signed(archive, offer, key)


def signed_bundle(
    folder: Path,
    bundle_id: str,
    *,
    drawing: str = "features.drawio",
    key: Ed25519PrivateKey | None = None,
) -> Signed:
    """Build ``drawing`` (tests/fixtures/drawio) into a bundle, pack and sign it."""
    folder.mkdir(parents=True, exist_ok=True)
    built = build_bundle(DRAWINGS / drawing, folder / bundle_id)
    archive = pack_bundle(built, folder / f"{bundle_id}.zip")
    return sign(archive, bundle_id, key or Ed25519PrivateKey.generate())


def zip_of(path: Path, members: dict[str, bytes], *, links: dict[str, str] | None = None) -> Path:
    """A zip with these members (and symbolic links, name -> target, as Info-ZIP stores them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as packed:
        for name, data in members.items():
            packed.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            packed.writestr(info, target)
    path.write_bytes(buffer.getvalue())
    return path


def tar_of(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    """A tar.gz of these members; regular files take their bytes from ``data``."""
    with tarfile.open(path, "w:gz") as packed:
        for info in members:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
            packed.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o644
    return info


# -- a local HTTPS server ------------------------------------------------------------------------

Route = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class HttpsServer:
    """A loopback HTTPS server with the test PKI's certificate; ``release`` frees stalled
    handlers (set at teardown before the server stops)."""

    port: int
    routes: dict[str, Route]
    release: threading.Event
    #: path -> the body of each PUT to it (the jobs' presigned uploads)
    uploads: dict[str, bytes] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"


@contextmanager
def https_server(pki: TestPki) -> Iterator[HttpsServer]:
    """Serve ``routes`` (path -> handler function) over TLS on a free loopback port."""
    routes: dict[str, Route] = {}
    uploads: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                self.send_error(404, "no such bundle")
                return
            route(self)

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            uploads[self.path.split("?", 1)[0]] = self.rfile.read(length)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="test-https", daemon=True)
    thread.start()
    served = HttpsServer(server.server_address[1], routes, threading.Event(), uploads)
    try:
        yield served
    finally:
        served.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the test HTTPS server did not stop"


def answer(
    status: int, headers: dict[str, str], body: bytes = b"", *, hold: threading.Event | None = None
) -> Route:
    """A route answering ``status`` with these headers and body, then waiting for ``hold``
    (set at teardown at the latest) before it closes the connection."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        if hold is not None:
            hold.wait(timeout=60)

    return route


def send_bytes(data: bytes, *, length: int | None = -1) -> Route:
    """A route answering 200 with ``data``; Content-Length says ``length`` (default: the
    real length; None: no Content-Length, the body ends when the connection closes)."""
    headers = {"Content-Type": "application/zip"}
    if length is not None:
        headers["Content-Length"] = str(len(data) if length == -1 else length)
    return answer(200, headers, data)
