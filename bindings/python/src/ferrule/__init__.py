"""ferrule: Python binding of the ferrule TLS 1.3 library.

- :class:`ClientConfig` / :class:`ServerConfig`: configuration.
- :class:`Connection`: the sans-I/O connection, shaped like ssl.SSLObject.
- :class:`SSLContext`: a drop-in ssl.SSLContext (wrap_bio / wrap_socket)
  for asyncio, http.client, urllib3, httpx, aiohttp, websockets;
  :func:`inject` / :func:`extract`.
- :func:`verify_chain`: standalone X.509 path validation.
- :mod:`ferrule.asyncio`: asyncio streams, servers, start_tls and the
  transport.
- :class:`Error` and its subclasses.
"""

from . import _ffi
from ._callbacks import (NO_ALPN, REFUSE, UNRECOGNIZED_NAME, ClientHello, EarlyDataInfo,
                         VerifyInfo)
from ._config import ClientConfig, ServerConfig
from ._connection import Connection
from ._verify import verify_chain
from ._sslcontext import (SSLCertVerificationError, SSLContext, SSLEOFError, SSLError, SSLObject,
                          SSLSession, SSLSocket, SSLWantReadError, SSLWantWriteError,
                          SSLZeroReturnError, Unsupported, create_default_context, extract,
                          inject, injected)
from ._errors import (AlertReceived, AlertSent, CertificateError, Closed, DecodeError, Error,
                      InternalError, PolicyError, Truncated, UsageError, WantRead, WantWrite)

__all__ = [
    "ClientConfig", "ServerConfig", "Connection", "verify_chain", "ClientHello", "EarlyDataInfo", "VerifyInfo",
    "REFUSE", "UNRECOGNIZED_NAME", "NO_ALPN",
    "Error", "WantRead", "WantWrite", "Closed", "Truncated", "AlertSent", "DecodeError",
    "AlertReceived", "CertificateError", "PolicyError", "UsageError", "InternalError",
    "library_version", "__version__",
    "SSLContext", "SSLObject", "SSLSocket", "SSLSession", "SSLError", "SSLWantReadError",
    "SSLWantWriteError", "SSLZeroReturnError", "SSLEOFError", "SSLCertVerificationError",
    "Unsupported", "create_default_context", "inject", "extract", "injected",
]

__version__ = "0.1.0"


def library_version() -> str:
    """The version of the libferrule the extension was built with."""
    return _ffi.ferrule_version_string()
