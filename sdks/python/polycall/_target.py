"""What `polycall.connect` was given: a socket path or a remote node's URL.

    /run/polycall/client.sock, unix:///run/.../client.sock   the node's Unix socket
    grpc://host:port                                          gRPC, plaintext (port required)
    grpcs://host[:port]                                       gRPC over TLS (443 by default)
    http://host[:port], https://host[:port][/prefix]          the HTTP gateway (80 / 443)

Pure and thread-safe.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .errors import InvalidArgument

__all__ = ["Target", "parse_target", "PemSource", "read_pem"]

# A PEM certificate or key: its bytes, its text, or the path of a file holding it.
PemSource = str | bytes | os.PathLike[str] | None

Kind = Literal["unix", "grpc", "http"]

_SCHEMES: dict[str, tuple[Kind, bool, int | None]] = {
    "grpc": ("grpc", False, None),
    "grpcs": ("grpc", True, 443),
    "http": ("http", False, 80),
    "https": ("http", True, 443),
}


@dataclass(frozen=True)
class Target:
    kind: Kind
    tls: bool = False
    host: str = ""
    port: int = 0
    path: str = ""  # the socket path (unix) or the URL's path prefix (http), no trailing "/"
    url: str = ""  # as given, for messages

    @property
    def authority(self) -> str:
        """host:port, with IPv6 hosts in brackets (what gRPC and HTTP want)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_target(text: str) -> Target:
    """The `Target` of `text`; InvalidArgument saying what a valid one looks like otherwise."""
    if not isinstance(text, str) or not text:
        raise InvalidArgument(
            f"connect() needs a socket path or a URL (grpc://host:port, http://host:port),"
            f" got {text!r}"
        )
    if "://" not in text:
        return Target("unix", path=text, url=text)
    scheme = text.split("://", 1)[0].lower()
    if scheme == "unix":
        path = text[len("unix://") :]
        if not path:
            raise InvalidArgument(f"{text!r} names no socket: write unix:///path/to/client.sock")
        return Target("unix", path=path, url=text)
    if scheme not in _SCHEMES:
        raise InvalidArgument(
            f"{text!r}: unknown scheme {scheme!r}; use grpc://, grpcs://, http://, https://"
            " or a socket path"
        )
    kind, tls, default_port = _SCHEMES[scheme]
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise InvalidArgument(f"{text!r}: the port is not a number from 0 to 65535") from None
    host = parts.hostname or ""
    if not host:
        raise InvalidArgument(f"{text!r} names no host: write {scheme}://host:port")
    if port is None:
        if default_port is None:
            raise InvalidArgument(
                f"{text!r} has no port; gRPC has no default: write {scheme}://{host}:PORT"
            )
        port = default_port
    if port == 0:
        raise InvalidArgument(f"{text!r}: port 0 cannot be connected to")
    if parts.username or parts.password:
        raise InvalidArgument(f"{text!r}: credentials in the URL are not sent; use token=")
    if parts.query or parts.fragment:
        raise InvalidArgument(f"{text!r}: a node URL takes no query or fragment")
    path = parts.path.rstrip("/")
    if kind == "grpc" and path:
        raise InvalidArgument(f"{text!r}: a gRPC URL has no path; write {scheme}://{host}:{port}")
    return Target(kind, tls, host, port, path, text)


def read_pem(source: PemSource, what: str) -> bytes | None:
    """PEM bytes from bytes, PEM text or a file path; InvalidArgument naming `what` if bad."""
    if source is None or isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode("ascii")
    try:
        with open(source, "rb") as f:
            return f.read()
    except OSError as e:
        raise InvalidArgument(f"{what}={source!s}: cannot read it: {e}") from None
