import pytest

from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import CustomerError
from zuora_pipeline.warehouse.transactions import write_transaction


@pytest.mark.parametrize("name", ["acme", "Acme_2", "a.b-c", "x" * 64])
def test_valid_names(name):
    assert customers.validate_name(name) == name


@pytest.mark.parametrize("name", ["", "-lead", "has space", "a,b", "a...b", "x" * 65, "ünïcode", "a/b", "a|b"])
def test_invalid_names_are_refused_with_the_rule(name):
    with pytest.raises(CustomerError, match="partition key"):
        customers.validate_name(name)


def test_credential_update_keeps_the_row_and_stamps_the_change(sqlite_engine):
    with write_transaction(sqlite_engine) as conn:
        added = customers.add(
            conn, name="acme", base_url="https://rest.zuora.com", client_id="a" * 36, client_secret_encrypted="x"
        )
        updated = customers.update(conn, "acme", client_id="b" * 36)
        renamed = customers.update(conn, "acme", display_name="ACME")
    assert updated.id == added.id and updated.client_id == "b" * 36
    assert updated.credentials_updated_at > added.credentials_updated_at
    assert renamed.credentials_updated_at == updated.credentials_updated_at


def test_duplicate_and_unknown_customers_give_actionable_errors(sqlite_engine):
    with write_transaction(sqlite_engine) as conn:
        customers.add(
            conn, name="acme", base_url="https://rest.zuora.com", client_id="a" * 36, client_secret_encrypted="x"
        )
        with pytest.raises(CustomerError, match="customers update acme"):
            customers.add(
                conn, name="acme", base_url="https://rest.zuora.com", client_id="a" * 36, client_secret_encrypted="x"
            )
        with pytest.raises(CustomerError, match="customers list"):
            customers.get(conn, "nobody")


def test_repr_never_shows_the_secret_ciphertext(sqlite_engine):
    with write_transaction(sqlite_engine) as conn:
        c = customers.add(
            conn,
            name="acme",
            base_url="https://rest.zuora.com",
            client_id="a" * 36,
            client_secret_encrypted="CIPHERTEXT",
        )
    assert "CIPHERTEXT" not in repr(c)
