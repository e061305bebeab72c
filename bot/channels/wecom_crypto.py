"""WeCom's callback encryption (加解密方案, document 90968): signature, AES-256-CBC, receiver id.

Every callback WeCom posts carries `msg_signature`, `timestamp` and `nonce` in its query and the
message, encrypted, in `<Encrypt>`. Checking and opening it:

- signature = SHA-1 (hex) over the token, the timestamp, the nonce and the ciphertext, sorted as
  strings and joined (90968 "消息体签名");
- key = Base64-decode(EncodingAESKey + "="): 43 characters give 32 bytes; the IV is its first 16;
- plaintext = 16 random bytes, the message length as 4 bytes big-endian, the message, the receiver
  id (the CorpID for a self-built app), padded by PKCS#7 to a multiple of **32** bytes, not AES's 16
  (90968 "PKCS#7填充": the pad may be up to 32 bytes long, e.g. the official sample's 22, which a
  16-byte unpadder refuses).

The cipher itself is `cryptography`'s; nothing here is a hand-written cipher. Every failure raises
`CallbackRefused` with a short reason for the log (never the message).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_BITS = 32 * 8  # WeCom pads to 32-byte blocks (90968)
KEY_CHARS = 43  # EncodingAESKey: 43 characters of Base64 (90968)


class CallbackRefused(Exception):
    """A callback that must not be acted on: `reason` names why, for the log (never the body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey; ValueError if it is not one."""
    if len(encoding_aes_key) != KEY_CHARS:
        raise ValueError(f"must be {KEY_CHARS} characters (it is {len(encoding_aes_key)})")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not Base64 (letters, digits, + and /)") from None
    if len(key) != 32:
        raise ValueError("does not decode to 32 bytes")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature: SHA-1 of the four strings sorted and joined (90968)."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypted))).encode()).hexdigest()


class WeComCrypto:
    """Verify, decrypt and (for tests and passive replies) encrypt WeCom callback payloads."""

    def __init__(self, token: str, encoding_aes_key: str, receiver_id: str) -> None:
        self.token = token
        self.key = decode_key(encoding_aes_key)
        self.receiver_id = receiver_id

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise CallbackRefused unless `msg_signature` is the signature of the other three."""
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), msg_signature.strip().lower().encode()):
            raise CallbackRefused("bad signature")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside `encrypted`, once its padding, length and receiver id check out."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise CallbackRefused("not Base64") from None
        if not data or len(data) % 16:
            raise CallbackRefused("not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        # 90968 pads to 32-byte blocks, as WeCom and its samples do; a sender that pads to AES's own 16 is read as
        # well (its ciphertext is then an odd number of 16-byte blocks, or its padding at most 16 bytes, which the
        # 32-byte unpadder accepts too). What is sent back is padded to 32.
        unpadder = padding.PKCS7(BLOCK_BITS if len(data) % 32 == 0 else 128).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise CallbackRefused("bad padding") from None
        if len(plain) < 20:
            raise CallbackRefused("too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CallbackRefused("bad length")
        message, receiver = plain[20:20 + length], plain[20 + length:]
        if not hmac.compare_digest(receiver, self.receiver_id.encode()):
            raise CallbackRefused("wrong receiver id")
        return message

    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        """`message` as WeCom would send it (Base64); `random16` fixes the random prefix for tests."""
        prefix = os.urandom(16) if random16 is None else random16
        if len(prefix) != 16:
            raise ValueError("random16 must be 16 bytes")
        plain = prefix + struct.pack(">I", len(message)) + message + self.receiver_id.encode()
        padder = padding.PKCS7(BLOCK_BITS).padder()
        padded = padder.update(plain) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> bytes:
        """Verify then decrypt: what the callback server does with every request."""
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)


def check_timestamp(timestamp: str, now: float, max_skew: float) -> None:
    """Refuse a callback whose timestamp is not a number or is further than `max_skew` seconds from now
    (a replayed old callback: its signature is still valid, so only its age gives it away)."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise CallbackRefused("bad timestamp")
    if abs(int(timestamp) - now) > max_skew:
        raise CallbackRefused("stale timestamp")
