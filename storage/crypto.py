"""Encryption at rest for personal answers: Fernet tokens under ALLYBOT_SECRET_KEY.

The key setting may list several keys separated by commas. The first one seals new data and
every one of them can open old data, so a key is rotated by putting the new key first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealError(Exception):
    """Sealed data that none of the configured keys can open."""


class BadKey(ValueError):
    """The key setting is not a comma-separated list of Fernet keys."""


class Sealer:
    def __init__(self, keys: str):
        try:
            fernets = [Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()]
        except ValueError:
            raise BadKey from None
        if not fernets:
            raise BadKey
        self._fernet = MultiFernet(fernets)
        # A key for digests, derived from the first key (so a new first key starts new ones).
        first = next(k.strip() for k in keys.split(",") if k.strip())
        self._digest_key = hashlib.sha256(b"allybot digest\0" + first.encode()).digest()

    def digest(self, text: str) -> str:
        """A keyed digest of `text` (32 hex digits): the same text gives the same digest, and
        without the key nobody can tell which text it came from, even by trying them all."""
        return hmac.new(self._digest_key, text.encode(), hashlib.sha256).hexdigest()[:32]

    def seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()

    def rotate(self, token: str) -> str:
        """The same data sealed under the first key (SealError if no key opens it)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except (InvalidToken, ValueError):
            raise SealError from None

    def open(self, token: str) -> dict[str, Any]:
        try:
            data = json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError):
            raise SealError from None
        if not isinstance(data, dict):
            raise SealError
        return data


def local_key(data_dir: Path) -> str:
    """This machine's own key (created on first use, readable by the owner only), for the
    shell, the demo and a single SQLite install. Several replicas need ALLYBOT_SECRET_KEY."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(Fernet.generate_key().decode() + "\n")
    return path.read_text().strip()
