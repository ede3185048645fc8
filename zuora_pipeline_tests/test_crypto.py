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


def test_a_key_list_encrypts_with_the_first_key_and_decrypts_with_any():
    old, new = new_key(), new_key()
    stored_with_old = SecretBox(old).encrypt("s3cr3t-value")
    box = SecretBox(f" {new} , {old} ")
    assert box.key_count == 2
    assert box.decrypt(stored_with_old) == "s3cr3t-value"
    assert SecretBox(new).decrypt(box.encrypt("other")) == "other"
    with pytest.raises(SecretKeyError, match="not the key it was stored with"):
        SecretBox(old).decrypt(box.encrypt("other"))


def test_rotate_reencrypts_with_the_newest_key():
    old, new = new_key(), new_key()
    rotated = SecretBox(f"{new},{old}").rotate(SecretBox(old).encrypt("s3cr3t-value"), customer="acme")
    assert SecretBox(new).decrypt(rotated) == "s3cr3t-value"
    with pytest.raises(SecretKeyError, match="no key in ZUORA_PIPELINE_SECRET_KEY is the key it was stored with"):
        SecretBox(f"{new_key()},{new_key()}").rotate(rotated, customer="acme")


def test_a_malformed_key_in_a_list_is_named_by_position_never_shown():
    good = new_key()
    with pytest.raises(
        SecretKeyError, match="key 2 of the 3 in ZUORA_PIPELINE_SECRET_KEY is not a valid Fernet key"
    ) as info:
        SecretBox(f"{good},not-a-key,{new_key()}")
    assert good not in str(info.value) and "not-a-key" not in str(info.value)
