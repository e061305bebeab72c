"""WeCom callback crypto (bot/channels/wecom_crypto.py) against WeCom's own published example values.

The vectors are those of WeCom's official Python sample (sbzhu/weworkapi_python, callback/Sample.py,
before its commit 71441bf blanked the token and key): token hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo,
EncodingAESKey 6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt, CorpID ww1436e0e65a779aee, one URL
verification and one message, each with the signature WeCom computed.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.channels.wecom_crypto import CallbackRefused, WeComCrypto, check_timestamp, decode_key, signature

TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"

VERIFY_SIGNATURE = "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
VERIFY_TIMESTAMP = "1476416373"
VERIFY_NONCE = "47744683"
ECHOSTR = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="

MESSAGE_SIGNATURE = "0c3914025cb4b4d68103f6bfc8db550f79dcf48e"
MESSAGE_TIMESTAMP = "1476422779"
MESSAGE_NONCE = "1597212914"
MESSAGE_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYc"
    "D+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7"
    "ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg"
    "84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
)
MESSAGE_PLAIN = (
    "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
    "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
    "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
)


@pytest.fixture
def crypto() -> WeComCrypto:
    return WeComCrypto(TOKEN, AES_KEY, CORP_ID)


def test_url_verification_vector_signature_and_echostr(crypto: WeComCrypto) -> None:
    assert signature(TOKEN, VERIFY_TIMESTAMP, VERIFY_NONCE, ECHOSTR) == VERIFY_SIGNATURE
    assert crypto.open(VERIFY_SIGNATURE, VERIFY_TIMESTAMP, VERIFY_NONCE, ECHOSTR) == b"1288432023552776189"


def test_message_vector_decrypts_to_the_sample_xml(crypto: WeComCrypto) -> None:
    assert crypto.sign(MESSAGE_TIMESTAMP, MESSAGE_NONCE, MESSAGE_ENCRYPT) == MESSAGE_SIGNATURE
    plain = crypto.open(MESSAGE_SIGNATURE, MESSAGE_TIMESTAMP, MESSAGE_NONCE, MESSAGE_ENCRYPT)
    assert plain.decode() == MESSAGE_PLAIN


def test_the_sample_message_is_padded_by_22_bytes_which_a_16_byte_unpadder_refuses() -> None:
    """PKCS#7 to 32-byte blocks (90968): the sample's pad is 22 bytes, more than AES's block of 16."""
    key = decode_key(AES_KEY)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(MESSAGE_ENCRYPT)) + decryptor.finalize()
    assert padded[-1] == 22 and padded[-22:] == bytes([22]) * 22
    unpadder = padding.PKCS7(128).unpadder()
    with pytest.raises(ValueError):
        unpadder.update(padded) + unpadder.finalize()


def test_encrypt_round_trips_and_pads_to_32_bytes(crypto: WeComCrypto) -> None:
    for size in (0, 1, 11, 12, 13, 44, 100, 2048):
        message = ("事" * size).encode()
        encrypted = crypto.encrypt(message)
        assert len(base64.b64decode(encrypted)) % 32 == 0
        assert crypto.decrypt(encrypted) == message


def test_a_fixed_random_prefix_reproduces_the_sample_ciphertext(crypto: WeComCrypto) -> None:
    """Encryption is WeCom's byte for byte: with the sample's own random prefix, the same ciphertext."""
    key = decode_key(AES_KEY)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    prefix = (decryptor.update(base64.b64decode(MESSAGE_ENCRYPT)) + decryptor.finalize())[:16]
    assert crypto.encrypt(MESSAGE_PLAIN.encode(), prefix) == MESSAGE_ENCRYPT


def test_a_bad_signature_is_refused(crypto: WeComCrypto) -> None:
    with pytest.raises(CallbackRefused, match="bad signature"):
        crypto.open("0" * 40, MESSAGE_TIMESTAMP, MESSAGE_NONCE, MESSAGE_ENCRYPT)
    with pytest.raises(CallbackRefused, match="bad signature"):  # signed for another nonce
        crypto.open(MESSAGE_SIGNATURE, MESSAGE_TIMESTAMP, "1597212915", MESSAGE_ENCRYPT)


def test_a_message_for_another_corp_is_refused() -> None:
    other = WeComCrypto(TOKEN, AES_KEY, "ww0000000000000000")
    with pytest.raises(CallbackRefused, match="wrong receiver id"):
        other.open(MESSAGE_SIGNATURE, MESSAGE_TIMESTAMP, MESSAGE_NONCE, MESSAGE_ENCRYPT)


@pytest.mark.parametrize("encrypted, reason", [
    ("not base64 at all!", "not Base64"),
    (base64.b64encode(b"x" * 20).decode(), "not whole AES blocks"),
    (base64.b64encode(b"x" * 32).decode(), "bad padding|too short|bad length|wrong receiver id"),
    ("", "not whole AES blocks"),
])
def test_undecryptable_bodies_are_refused(crypto: WeComCrypto, encrypted: str, reason: str) -> None:
    with pytest.raises(CallbackRefused, match=reason):
        crypto.decrypt(encrypted)


def test_a_declared_length_past_the_end_is_refused(crypto: WeComCrypto) -> None:
    key = decode_key(AES_KEY)
    plain = b"r" * 16 + (1000).to_bytes(4, "big") + b"short" + CORP_ID.encode()
    padder = padding.PKCS7(256).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
    with pytest.raises(CallbackRefused, match="bad length"):
        crypto.decrypt(encrypted)


def _encrypted_with_padding(plain: bytes, block_bits: int) -> str:
    key = decode_key(AES_KEY)
    padder = padding.PKCS7(block_bits).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


@pytest.mark.parametrize("size", [0, 1, 5, 11, 12, 27, 28, 100])
def test_a_sender_padding_to_16_bytes_is_read_too(crypto: WeComCrypto, size: int) -> None:
    """90968 pads to 32 bytes; another implementation of the scheme may pad to AES's block of 16. Either is read
    (whether its ciphertext comes to an odd or even number of 16-byte blocks); what the bot sends is padded to 32."""
    message = ("事" * size).encode()
    plain = b"r" * 16 + len(message).to_bytes(4, "big") + message + CORP_ID.encode()
    for bits in (128, 256):
        assert crypto.decrypt(_encrypted_with_padding(plain, bits)) == message
    assert any(len(base64.b64decode(_encrypted_with_padding(
        b"r" * 16 + n.to_bytes(4, "big") + b"x" * n + CORP_ID.encode(), 128))) % 32 for n in range(16))


def test_padding_that_is_not_pkcs7_is_refused(crypto: WeComCrypto) -> None:
    key = decode_key(AES_KEY)
    plain = b"r" * 16 + (4).to_bytes(4, "big") + b"text" + CORP_ID.encode()
    for pad in (bytes([0]) * 6, bytes([33]) * 6, bytes([3, 4, 4, 4, 4, 6])):  # 0, more than 32, not all the same
        body = plain + b"p" * (-(len(plain) + len(pad)) % 16) + pad
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        encrypted = base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()
        with pytest.raises(CallbackRefused, match="bad padding"):
            crypto.decrypt(encrypted)


def test_stale_or_malformed_timestamps_are_refused() -> None:
    check_timestamp("1476422779", 1476422779 + 299, 300)
    check_timestamp("1476422779", 1476422779 - 299, 300)  # a clock slightly behind WeCom's
    with pytest.raises(CallbackRefused, match="stale"):
        check_timestamp("1476422779", 1476422779 + 301, 300)
    for bad in ("", "-5", "12a", "9" * 20):
        with pytest.raises(CallbackRefused, match="bad timestamp"):
            check_timestamp(bad, 0, 300)


@pytest.mark.parametrize("key", ["", "short", AES_KEY + "A", AES_KEY[:-1] + "!", "*" * 43])
def test_a_malformed_encoding_aes_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError):
        decode_key(key)
