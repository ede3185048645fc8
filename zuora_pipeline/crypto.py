"""Encryption of customers' client secrets at rest (Fernet, keyed by ZUORA_PIPELINE_SECRET_KEY).

Kept free of SQL, HTTP and the environment: the key is passed in (the `zuora` resource's
``secret_key`` field, or the CLI's environment), the warehouse stores only the ciphertext, and only
the code that builds a Zuora client ever sees the plain secret.

The key may be a comma-separated list, newest first (Fernet's MultiFernet): secrets are encrypted
with the first key and decrypted with whichever key they were stored with. That is how a key is
rotated without downtime: put the new key in front everywhere, re-encrypt what is stored
(``zuora-pipeline secret-key rotate``), then drop the old key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# Named in the messages: the variable operators set (read by the entry points, not here).
SECRET_KEY_ENV = "ZUORA_PIPELINE_SECRET_KEY"
KEY_SEPARATOR = ","


class SecretKeyError(RuntimeError):
    """The secret key is missing or cannot decrypt what is stored."""


_HOW_TO = (
    "create one with `zuora-pipeline secret-key` and export it as "
    f"{SECRET_KEY_ENV} (keep it: secrets stored with it cannot be read without it)"
)


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _fernet(key: str, position: int, count: int) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        # Which key of the list, never the key itself.
        which = f"key {position} of the {count} in {SECRET_KEY_ENV}" if count > 1 else SECRET_KEY_ENV
        raise SecretKeyError(f"{which} is not a valid Fernet key: {_HOW_TO}") from None


class SecretBox:
    def __init__(self, key: str) -> None:
        keys = [part.strip() for part in key.split(KEY_SEPARATOR)]
        self.key_count = len(keys)
        self._fernet = MultiFernet([_fernet(k, n, len(keys)) for n, k in enumerate(keys, start=1)])

    @classmethod
    def from_key(cls, key: str | None) -> SecretBox:
        """A box for ``key`` (one key, or several newest first); a clear error when there is none."""
        if not key or not key.strip():
            raise SecretKeyError(f"{SECRET_KEY_ENV} is not set: {_HOW_TO}")
        return cls(key.strip())

    def encrypt(self, plain: str) -> str:
        """Encrypted with the newest (first) key."""
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, *, customer: str = "") -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise self._not_the_key(customer) from None

    def rotate(self, token: str, *, customer: str = "") -> str:
        """``token`` encrypted again with the newest key, whichever key of the list it was stored with."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise self._not_the_key(customer) from None

    def _not_the_key(self, customer: str) -> SecretKeyError:
        who = f" of customer {customer!r}" if customer else ""
        which = f"no key in {SECRET_KEY_ENV} is" if self.key_count > 1 else f"{SECRET_KEY_ENV} is not"
        return SecretKeyError(
            f"cannot decrypt the client secret{who}: {which} the key it was stored with. "
            "Set the original key, or store the secret again with "
            f"`zuora-pipeline customers update {customer or 'NAME'} --client-secret-env VAR`."
        )
