"""Encryption of customers' client secrets at rest (Fernet, keyed by ZUORA_PIPELINE_SECRET_KEY).

Kept free of SQL, HTTP and the environment: the key is passed in (the `zuora` resource's
``secret_key`` field, or the CLI's environment), the warehouse stores only the ciphertext, and only
the code that builds a Zuora client ever sees the plain secret.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

# Named in the messages: the variable operators set (read by the entry points, not here).
SECRET_KEY_ENV = "ZUORA_PIPELINE_SECRET_KEY"


class SecretKeyError(RuntimeError):
    """The secret key is missing or cannot decrypt what is stored."""


_HOW_TO = (
    "create one with `zuora-pipeline secret-key` and export it as "
    f"{SECRET_KEY_ENV} (keep it: secrets stored with it cannot be read without it)"
)


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise SecretKeyError(f"{SECRET_KEY_ENV} is not a valid Fernet key: {_HOW_TO}") from None

    @classmethod
    def from_key(cls, key: str | None) -> SecretBox:
        """A box for ``key``; a clear error when there is none."""
        if not key or not key.strip():
            raise SecretKeyError(f"{SECRET_KEY_ENV} is not set: {_HOW_TO}")
        return cls(key.strip())

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, *, customer: str = "") -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            who = f" of customer {customer!r}" if customer else ""
            raise SecretKeyError(
                f"cannot decrypt the client secret{who}: {SECRET_KEY_ENV} is not the key "
                "it was stored with. Set the original key, or store the secret again with "
                f"`zuora-pipeline customers update {customer or 'NAME'} --client-secret-env VAR`."
            ) from None
