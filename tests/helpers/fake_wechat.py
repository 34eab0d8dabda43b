"""A fake of WeChat's servers: signs and posts XML to /wechat as WeChat does, reads replies.

It encrypts and signs on its own (from WeChat's documented scheme, not linli's code), so
the endpoint is checked against WeChat's side, not against itself.
"""

import base64
import hashlib
import os
import ssl as ssl_module
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import count
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "linliTestToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat makes them
APP_ID = "wx1234567890abcdef"
ACCOUNT = "gh_linli_test"


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass
class WeChatReply:
    """What the endpoint answered: the HTTP status and the reply's fields (decrypted)."""

    status: int
    body: str
    fields: dict[str, str]

    @property
    def content(self) -> str:
        return self.fields.get("Content", "")


class FakeWeChat:
    """Post followers' messages to a linli endpoint as WeChat's servers do."""

    def __init__(self, url: str, token: str = TOKEN, aes_key: str = AES_KEY,
                 app_id: str = APP_ID, ssl: ssl_module.SSLContext | None = None,
                 safe: bool = True) -> None:
        """`safe`: the account is in safe mode, so every message is encrypted unless told."""
        self.url, self.token, self.app_id, self.ssl, self.safe = url, token, app_id, ssl, safe
        self.key = base64.b64decode(aes_key + "=")
        self._ids = count(7_000_000_000_000_000_001)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "FakeWeChat":
        connector = aiohttp.TCPConnector(ssl=self.ssl) if self.ssl else None
        self._session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        await self._session.close()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, text: str) -> str:
        body = text.encode()
        plain = os.urandom(16) + struct.pack(">I", len(body)) + body + self.app_id.encode()
        pad = 32 - len(plain) % 32
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(plain + bytes([pad]) * pad) + enc.finalize()).decode()

    def decrypt(self, ciphertext: str) -> str:
        dec = self._cipher().decryptor()
        plain = dec.update(base64.b64decode(ciphertext)) + dec.finalize()
        plain = plain[: -plain[-1]]
        (length,) = struct.unpack(">I", plain[16:20])
        assert plain[20 + length:].decode() == self.app_id, "the reply is for another AppID"
        return plain[20:20 + length].decode()

    def message_xml(self, openid: str, msg_type: str = "text", msg_id: int | None = None,
                    **fields: str) -> str:
        parts = [f"<ToUserName>{cdata(ACCOUNT)}</ToUserName>",
                 f"<FromUserName>{cdata(openid)}</FromUserName>",
                 f"<CreateTime>{int(time.time())}</CreateTime>",
                 f"<MsgType>{cdata(msg_type)}</MsgType>"]
        parts += [f"<{name}>{cdata(value)}</{name}>" for name, value in fields.items()]
        if msg_type != "event":
            parts.append(f"<MsgId>{msg_id or next(self._ids)}</MsgId>")
        return "<xml>" + "".join(parts) + "</xml>"

    async def post(self, xml: str, openid: str, encrypted: bool | None = None,
                   signature: str | None = None, timestamp: str | None = None
                   ) -> WeChatReply:
        """Post a message body as WeChat does (query: signature, timestamp, nonce, openid)."""
        assert self._session is not None
        timestamp = timestamp or str(int(time.time()))
        nonce = str(int.from_bytes(os.urandom(4), "big"))
        query = {"signature": signature or sign(self.token, timestamp, nonce),
                 "timestamp": timestamp, "nonce": nonce, "openid": openid}
        body = xml
        if self.safe if encrypted is None else encrypted:
            ciphertext = self.encrypt(xml)
            query |= {"encrypt_type": "aes",
                      "msg_signature": signature or sign(self.token, timestamp, nonce,
                                                         ciphertext)}
            body = (f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName>"
                    f"<Encrypt>{cdata(ciphertext)}</Encrypt></xml>")
        async with self._session.post(self.url, params=query, data=body.encode(),
                                      headers={"Content-Type": "text/xml"}) as response:
            text = await response.text()
            status = response.status
        fields = read_xml(text) if status == 200 and text.startswith("<xml>") else {}
        if "Encrypt" in fields:
            assert fields["MsgSignature"] == sign(self.token, fields["TimeStamp"],
                                                  fields["Nonce"], fields["Encrypt"])
            fields = read_xml(self.decrypt(fields["Encrypt"]))
        return WeChatReply(status, text, fields)

    async def post_raw(self, body: str, query: dict[str, str]) -> int:
        """Post a body with a query of one's own making (a forgery); return the status."""
        assert self._session is not None
        async with self._session.post(self.url, params=query, data=body.encode()) as response:
            return response.status

    async def post_bytes(self, body: bytes, query: dict[str, str]) -> int:
        """Post raw bytes (another encoding, say) with a query of one's own; the status."""
        assert self._session is not None
        async with self._session.post(self.url, params=query, data=body) as response:
            return response.status

    async def send_text(self, openid: str, content: str, encrypted: bool | None = None,
                        **options: Any) -> WeChatReply:
        """A follower sends a text message."""
        msg_id = options.pop("msg_id", None)
        xml = self.message_xml(openid, "text", msg_id=msg_id, Content=content)
        return await self.post(xml, openid, encrypted, **options)

    async def subscribe(self, openid: str, encrypted: bool | None = None) -> WeChatReply:
        """A user follows the account."""
        return await self.post(self.message_xml(openid, "event", Event="subscribe"), openid,
                               encrypted)

    async def check_server(self, echostr: str, signature: str | None = None) -> tuple[int, str]:
        """WeChat's GET check of the server URL: the echostr comes back if it is signed."""
        assert self._session is not None
        timestamp, nonce = str(int(time.time())), "20260101"
        query = {"signature": signature or sign(self.token, timestamp, nonce),
                 "timestamp": timestamp, "nonce": nonce, "echostr": echostr}
        async with self._session.get(self.url, params=query) as response:
            return response.status, await response.text()


def read_xml(text: str) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(text)}
