import pytest

from tests import factories


@pytest.fixture
def practice(db):
    """A basis practice with its main user and four colleagues (the basis limit of five is full),
    and an outsider: main user of another practice."""
    practice = factories.practice("Praxis Vertrag")
    owner = factories.member(practice, main=True)
    colleague = factories.member(practice, role="staff")
    for _ in range(3):
        factories.member(practice, role="staff")
    other = factories.practice("Praxis Fremd")
    outsider = factories.member(other, main=True)
    return type("P", (), dict(practice=practice, owner=owner, colleague=colleague, other=other, outsider=outsider))


@pytest.fixture
def operator(settings, tmp_path):
    """The operator's settings (OPERATOR_*), as .env.example shows them; invoices in tmp_path."""
    settings.OPERATOR_NAME = "Sprechzimmer Betrieb GmbH"
    settings.OPERATOR_STREET = "Königstraße 1"
    settings.OPERATOR_POSTCODE = "70173"
    settings.OPERATOR_CITY = "Stuttgart"
    settings.OPERATOR_EMAIL = "rechnung@sprechzimmer.example.org"
    settings.OPERATOR_VAT_ID = "DE123456789"
    settings.OPERATOR_TAX_NUMBER = ""
    settings.OPERATOR_IBAN = "DE89370400440532013000"
    settings.OPERATOR_BIC = "COBADEFFXXX"
    settings.OPERATOR_CREDITOR_ID = "DE98ZZZ09999999999"
    settings.INVOICES_DIR = tmp_path / "invoices"
    return settings
