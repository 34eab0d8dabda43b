"""WeChat's message XML: what its servers post (parsed safely) and the passive text reply.

May import only the standard library.
"""

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

# WeChat never sends a document type; refusing one rules out entity tricks (billion laughs).
_DECLARATIONS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
MAX_CONTENT_BYTES = 2048  # WeChat's limit on a passive text reply's content


class MessageError(Exception):
    """A posted body is not a WeChat message; the message says what is wrong."""


@dataclass(frozen=True)
class Message:
    """One message or event from a follower, as the fields of WeChat's XML."""

    to_user: str  # the official account's id (gh_...)
    from_user: str  # the follower's OpenID
    create_time: str
    msg_type: str  # text, image, voice, event, ...
    content: str = ""  # a text message's words, or a voice message's recognised words
    event: str = ""  # subscribe, unsubscribe, CLICK, ...
    msg_id: str = ""

    @property
    def key(self) -> str:
        """What identifies the message when WeChat posts it again (its retries).

        The sender is part of it: a MsgId alone is not known to be unique across followers.
        """
        return f"{self.from_user}:{self.msg_id or f'{self.create_time}:{self.event}'}"


def parse_xml(body: bytes) -> dict[str, str]:
    """The child elements of WeChat's <xml> root as a dict of their texts.

    WeChat posts UTF-8. The body is decoded here and parsed as text, so that expat never
    reads it in another encoding (UTF-16, say) where the document-type check cannot see.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MessageError("the body is not UTF-8") from None
    if "\x00" in text:  # UTF-16 without a byte-order mark still decodes as UTF-8
        raise MessageError("the body is not UTF-8 (it holds NUL characters)")
    if _DECLARATIONS.search(text):
        raise MessageError("the XML declares a document type")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise MessageError(f"the body is not XML ({err})") from None
    if root.tag != "xml":
        raise MessageError(f"the root element is <{root.tag}>, not <xml>")
    return {child.tag: (child.text or "") for child in root}


def parse_message(fields: dict[str, str]) -> Message:
    """Read a message from its fields; raise MessageError if a required one is missing."""
    missing = [n for n in ("ToUserName", "FromUserName", "MsgType") if not fields.get(n)]
    if missing:
        raise MessageError(f"the message has no {', '.join(missing)}")
    content = fields.get("Content", "")
    if fields["MsgType"] == "voice":
        content = fields.get("Recognition", "")
    return Message(to_user=fields["ToUserName"], from_user=fields["FromUserName"],
                   create_time=fields.get("CreateTime", ""), msg_type=fields["MsgType"],
                   content=content, event=fields.get("Event", ""),
                   msg_id=fields.get("MsgId", ""))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def cdata(text: str) -> str:
    """Wrap text in CDATA, splitting any ]]> it holds so that it cannot close the section.

    Characters XML 1.0 cannot hold are dropped.
    """
    return "<![CDATA[" + _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(message: Message, content: str, now: float | None = None) -> str:
    """The passive reply XML: a text message back to the sender."""
    created = int(time.time() if now is None else now)
    return (f"<xml><ToUserName>{cdata(message.from_user)}</ToUserName>"
            f"<FromUserName>{cdata(message.to_user)}</FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType>{cdata('text')}</MsgType>"
            f"<Content>{cdata(content)}</Content></xml>")


def encrypted_reply(encrypt: str, signature: str, timestamp: str, nonce: str) -> str:
    """The safe-mode envelope of an encrypted reply."""
    return (f"<xml><Encrypt>{cdata(encrypt)}</Encrypt>"
            f"<MsgSignature>{cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>")
