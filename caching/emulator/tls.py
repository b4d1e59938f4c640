"""HTTPS for the loopback server: a certificate authority made for this run, and a certificate it signs for
localhost and 127.0.0.1, from trustme (a maintained library made for exactly this; no crypto is written here).

Bedrock API keys need it: botocore sends a bearer token (`AWS_BEARER_TOKEN_BEDROCK`) only over HTTPS. A client
trusts the certificate through the CA file this writes: `AWS_CA_BUNDLE=<file>`, or `verify=<file>` in boto3.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from ..errors import CachingError

HOSTS = ("localhost", "127.0.0.1")  # the names the certificate is good for: the server listens on loopback only


@dataclass(frozen=True)
class LocalTls:
    """The server's side (`context`) and the file of the CA that signed its certificate, for clients to trust."""

    context: ssl.SSLContext
    ca_file: Path


def localhost_tls(ca_file: str | Path) -> LocalTls:
    """A new CA and a certificate it signs for localhost and 127.0.0.1; the CA's certificate (public: no key) is
    written to `ca_file`. CachingError when that file cannot be written."""
    import trustme  # only `serve --tls` needs it

    ecdsa = trustme.KeyType.ECDSA  # made in milliseconds (RSA takes a quarter of a second), and every client takes it
    authority = trustme.CA(organization_name="caching offline Bedrock emulator", key_type=ecdsa)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*HOSTS, key_type=ecdsa).configure_cert(context)
    path = Path(ca_file)
    try:
        authority.cert_pem.write_to_path(str(path))
    except OSError as exc:
        raise CachingError(
            f"Cannot write the emulator's CA certificate to {str(path)!r} ({exc.strerror}): choose another --ca-file."
        ) from None
    return LocalTls(context, path)
