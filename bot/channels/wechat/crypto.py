"""WeChat's message signature and its safe mode (安全模式) encryption, as WeChat documents them.

Signature: SHA-1 of the sorted strings token, timestamp, nonce (and the ciphertext in safe
mode), hex. Safe mode: AES-256-CBC with the key Base64-decoded from the 43-character
EncodingAESKey, the key's first 16 bytes as IV, PKCS#7 padding to 32-byte blocks, over
16 random bytes + the message's length (4 bytes, big-endian) + the message + the AppID.
May import only the standard library and `cryptography`.
"""

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16
MAX_CIPHERTEXT = 64 * 1024  # a text message is at most a few kilobytes


class WeChatCryptoError(Exception):
    """A message cannot be verified or decrypted; the message says which check failed."""


def signature(*parts: str) -> str:
    """Sign the strings as WeChat does: SHA-1 of their sorted concatenation."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, *parts: str) -> bool:
    """Tell whether `expected` is the signature of `parts` (compared in constant time)."""
    return hmac.compare_digest(signature(*parts).encode(), expected.lower().encode("utf-8",
                                                                                   "replace"))


class SafeMode:
    """Encrypt and decrypt message bodies with one account's EncodingAESKey and AppID."""

    def __init__(self, aes_key: str, app_id: str) -> None:
        try:
            self.key = base64.b64decode(aes_key + "=", validate=True)
        except binascii.Error:
            raise ValueError("the EncodingAESKey is not Base64 (43 letters and digits)") from None
        if len(self.key) != 32:
            raise ValueError("the EncodingAESKey must decode to 32 bytes (43 characters)")
        self.app_id = app_id.encode("utf-8")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, random: bytes | None = None) -> str:
        """Encrypt a message as WeChat does; `random` (16 bytes) only for known-answer tests."""
        body = message.encode("utf-8")
        plain = (random or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.app_id
        pad = BLOCK - len(plain) % BLOCK
        encryptor = self._cipher().encryptor()
        data = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(data).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt a message and check that it is addressed to this AppID."""
        if len(ciphertext) > MAX_CIPHERTEXT:
            raise WeChatCryptoError("the encrypted message is too long")
        try:
            data = base64.b64decode(ciphertext, validate=True)
        except binascii.Error:
            raise WeChatCryptoError("the encrypted message is not Base64") from None
        if not data or len(data) % 16:
            raise WeChatCryptoError("the encrypted message is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or len(plain) < 20 + pad:
            raise WeChatCryptoError("the decrypted message has bad padding")
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        body, app_id = plain[20:20 + length], plain[20 + length:]
        if len(body) != length or not hmac.compare_digest(app_id, self.app_id):
            raise WeChatCryptoError("the decrypted message is for another AppID")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise WeChatCryptoError("the decrypted message is not UTF-8") from None
