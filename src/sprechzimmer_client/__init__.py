"""A small client for Sprechzimmer's API that encrypts patient data itself (docs/api.md).

It holds its own P-256 key pair; the practice's main user grants it the practice key in the
browser after comparing fingerprints, exactly like a colleague's device. Patient data then goes to
the server only as the same AES-256-GCM envelopes the browser makes (docs/e2ee.md). The GDT bridge
(``gdt``, ``bridge``) lets a practice management system (PVS) create video appointments through it.

Needs only the standard library and ``cryptography``; it does not import Django or the server.
"""

from .client import Client, ClientError

__all__ = ["Client", "ClientError"]
