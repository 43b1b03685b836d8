"""One way to derive seeds: every random stream in Synesthete is named by a tuple of parts."""

import hashlib


def stable_seed(*parts) -> int:
    """A 63-bit seed from parts joined by ':' (sha256), stable across machines and Python versions."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1
