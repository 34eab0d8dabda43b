"""WeChat's signature and safe-mode encryption, against vectors WeChat's scheme produced.

The vectors are the known-answer values published with wechatpy's tests (a WeChat Work
callback: the same AES scheme, the receiver id in place of the AppID).
"""

import pytest

from bot.channels.wechat.crypto import SafeMode, WeChatCryptoError, signature, signature_matches

TOKEN = "123456"
KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
RECEIVER = "wx49f0ab532d5d035a"
TIMESTAMP, NONCE = "1411525903", "461056294"
POSTED = ("RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6I"
          "HCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTd"
          "aXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmU"
          "HzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGh"
          "cUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=")
REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
REPLY_ENCRYPTED = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcB"
    "qGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0n"
    "FhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwb"
    "gX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3"
    "ypD3WeK2XeFYFMNMpatF9XiKzHo3")


def test_a_posted_message_decrypts_to_its_xml_and_its_signature_matches() -> None:
    assert signature_matches("74d92dfeb87ba7c714f89d98870ae5eb62dff26d", TOKEN, TIMESTAMP,
                             NONCE, POSTED)
    message = SafeMode(KEY, RECEIVER).decrypt(POSTED)
    assert "<Content><![CDATA[test]]></Content>" in message
    assert "<FromUserName><![CDATA[messense]]></FromUserName>" in message


def test_a_reply_encrypts_byte_for_byte_as_wechat_does_with_the_same_random_bytes() -> None:
    encrypted = SafeMode(KEY, RECEIVER).encrypt(REPLY, random=b"1234567890123456")
    assert encrypted == REPLY_ENCRYPTED
    assert signature(TOKEN, TIMESTAMP, NONCE, encrypted) == \
        "407518b7649e86ef23978113f92d27afa9296533"


def test_a_changed_nonce_fails_the_signature() -> None:
    assert not signature_matches("74d92dfeb87ba7c714f89d98870ae5eb62dff26d", TOKEN, TIMESTAMP,
                                 "461056295", POSTED)


def test_a_message_for_another_app_id_is_refused() -> None:
    with pytest.raises(WeChatCryptoError, match="another AppID"):
        SafeMode(KEY, "wx0000000000000000").decrypt(POSTED)


@pytest.mark.parametrize("ciphertext", ["not base64!", "", "QUJD", POSTED[:-24] + "=" * 0])
def test_garbage_ciphertext_is_a_crypto_error_not_a_crash(ciphertext: str) -> None:
    with pytest.raises(WeChatCryptoError):
        SafeMode(KEY, RECEIVER).decrypt(ciphertext)


def test_round_trip_of_chinese_text() -> None:
    mode = SafeMode(KEY, RECEIVER)
    assert mode.decrypt(mode.encrypt("老年人活动区在哪里？【】")) == "老年人活动区在哪里？【】"


def test_a_short_aes_key_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SafeMode("abc", RECEIVER)
