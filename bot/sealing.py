"""Personal data sealed at rest: complainants' names and contacts, and phone numbers (PIPL Art. 28).

A `Sealer` holds one or more data keys, the first of which seals; any of them opens what it sealed.
- `seal(text, purpose)`: AES-256-GCM (authenticated: a changed byte is an error, never wrong text),
  a fresh 96-bit nonce each time, the purpose ("matters.complainant_name") as associated data, so a
  value moved to another column does not open. Stored as `enc1:<key id>:<base64url(nonce + sealed)>`.
- `digest(text, purpose)`: HMAC-SHA-256 under a key of its own, for the one lookup that needs equality
  (a phone number: binding's confirmation, the roster's re-import, the search by number). Without the
  key a phone number's digest cannot be tried against the billion numbers there are.
The key id is the first 8 hex digits of a hash of the key, so it says which key sealed a value
without saying anything of the key. An empty text stays empty: "no phone" is not a secret.

The keys come from the environment (`LIAISON_DATA_KEY`) or from a key file (`storage.key_file`),
never from the database, a log or a backup (bot/data_key.py finds them and checks them against the
database). A key is 32 random bytes written as 43 characters of base64url; several keys are
separated by spaces, commas or lines, the sealing one first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import LiaisonError

PREFIX = "enc1"
NONCE = 12
KEY_BYTES = 32
_TOKEN = re.compile(r"enc1:([0-9a-f]{8}):([A-Za-z0-9_-]+)")
_KEY = re.compile(r"[A-Za-z0-9_-]{43}")

# The purposes: where a value lives. Sealed under one, it opens under no other.
COMPLAINANT_NAME = "matters.complainant_name"
COMPLAINANT_CONTACT = "matters.complainant_contact"
PHONE = "persons.phone"
CANARY = "data_key.canary"


class SealingError(LiaisonError):
    """A sealed value does not open with the keys given (wrong key, or a changed value)."""


class KeyFormatError(LiaisonError):
    """The key text is not one or more keys of 43 base64url characters."""


def new_key() -> str:
    """A fresh data key as text."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


@dataclass(frozen=True)
class _Key:
    id: str
    aead: AESGCM
    mac: bytes


def key_id(text: str) -> str:
    """The id of a key given as text (shown to the operator; reveals nothing of the key)."""
    return hashlib.sha256(b"liaison data key id\0" + _decode(text)).hexdigest()[:8]


def _decode(text: str) -> bytes:
    if not _KEY.fullmatch(text):
        raise KeyFormatError("a data key is 43 characters of A-Z, a-z, 0-9, '-' and '_' "
                             "(python -m bot key new makes one)")
    return base64.urlsafe_b64decode(text + "=")


def parse_keys(text: str) -> list[str]:
    """The keys in a key file or the environment variable: separated by spaces, commas or lines; '#' starts
    a comment. The first one seals."""
    keys = []
    for line in text.splitlines():
        keys += [k for k in re.split(r"[\s,]+", line.split("#", 1)[0]) if k]
    if not keys:
        raise KeyFormatError("no key in it (python -m bot key new makes one)")
    for k in keys:
        _decode(k)
    return list(dict.fromkeys(keys))


class Sealer:
    """Seals with the first key, opens with any; see the module docstring."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise KeyFormatError("no key")
        self._keys: dict[str, _Key] = {}
        for text in keys:
            raw = _decode(text)
            kid = key_id(text)
            self._keys[kid] = _Key(kid, AESGCM(_derive(raw, b"liaison seal v1")), _derive(raw, b"liaison digest v1"))
        self.primary = self._keys[key_id(keys[0])]

    @classmethod
    def from_text(cls, text: str) -> Sealer:
        return cls(parse_keys(text))

    @property
    def key_ids(self) -> list[str]:
        """The ids of the keys held, the sealing one first."""
        return [self.primary.id, *(k for k in self._keys if k != self.primary.id)]

    def seal(self, text: str, purpose: str) -> str:
        if not text:
            return ""
        nonce = secrets.token_bytes(NONCE)
        sealed = self.primary.aead.encrypt(nonce, text.encode("utf-8"), purpose.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}:{self.primary.id}:{body}"

    def seal_opt(self, text: str | None, purpose: str) -> str | None:
        return None if text is None else self.seal(text, purpose)

    def open(self, token: str, purpose: str) -> str:
        if not token:
            return ""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise SealingError(f"not a sealed value ({purpose})")
        key = self._keys.get(match.group(1))
        if key is None:
            raise SealingError(f"sealed with key {match.group(1)}, which is not among the keys given ({purpose})")
        data = base64.urlsafe_b64decode(match.group(2) + "=" * (-len(match.group(2)) % 4))
        try:
            return key.aead.decrypt(data[:NONCE], data[NONCE:], purpose.encode()).decode("utf-8")
        except (InvalidTag, ValueError):
            raise SealingError(f"a sealed value does not open: changed, or moved from elsewhere ({purpose})") from None

    def open_opt(self, token: str | None, purpose: str) -> str | None:
        return None if token is None else self.open(token, purpose)

    def digest(self, text: str, purpose: str) -> str:
        """The keyed digest under the sealing key, as stored: `<key id>:<hex>`."""
        return self._digest(self.primary, text, purpose)

    def digests(self, text: str, purpose: str) -> list[str]:
        """The digests under every key held (a lookup during a rotation finds rows of either key)."""
        return [self._digest(self._keys[kid], text, purpose) for kid in self.key_ids]

    @staticmethod
    def _digest(key: _Key, text: str, purpose: str) -> str:
        mac = hmac.new(key.mac, purpose.encode() + b"\0" + text.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{key.id}:{mac}"


def sealed_with(token: str) -> str | None:
    """The key id a stored value was sealed with; None for an empty value."""
    match = _TOKEN.fullmatch(token)
    return match.group(1) if match else None
