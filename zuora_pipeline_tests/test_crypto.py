import pytest

from zuora_pipeline import config
from zuora_pipeline.crypto import SecretBox, SecretKeyError, new_key


def test_roundtrip_and_ciphertext_is_not_plain():
    box = SecretBox(new_key())
    token = box.encrypt("s3cr3t-value")
    assert "s3cr3t-value" not in token
    assert box.decrypt(token) == "s3cr3t-value"


def test_wrong_key_gives_a_clear_error_without_the_secret():
    token = SecretBox(new_key()).encrypt("s3cr3t-value")
    with pytest.raises(SecretKeyError, match="not the key it was stored with") as info:
        SecretBox(new_key()).decrypt(token, customer="acme")
    assert "s3cr3t-value" not in str(info.value)
    assert "customers update acme --client-secret-env" in str(info.value)


def test_missing_and_malformed_keys_say_how_to_make_one(monkeypatch):
    monkeypatch.delenv("ZUORA_PIPELINE_SECRET_KEY", raising=False)
    with pytest.raises(SecretKeyError, match="zuora-pipeline secret-key"):
        config.secret_box()
    with pytest.raises(SecretKeyError, match="not a valid Fernet key"):
        SecretBox("not-a-key")
