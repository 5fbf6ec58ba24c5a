"""System checks report settings mistakes with ids."""

from __future__ import annotations

from inbox.checks import check_cleaninbox_settings


def _ids(settings_obj) -> set[str]:
    return {problem.id for problem in check_cleaninbox_settings(None)}


def test_a_sane_configuration_has_no_errors(settings):
    settings.CLEANINBOX_IMAP_HOST = ""
    settings.CLEANINBOX_REVIEW_THRESHOLD = None
    assert not {i for i in _ids(settings) if ".E" in i}


def test_a_threshold_outside_0_1_is_an_error(settings):
    settings.CLEANINBOX_REVIEW_THRESHOLD = 1.5
    assert "cleaninbox.E001" in _ids(settings)


def test_imap_without_credentials_is_an_error(settings):
    settings.CLEANINBOX_IMAP_HOST = "imap.bank.example"
    settings.CLEANINBOX_IMAP_USER = ""
    assert "cleaninbox.E004" in _ids(settings)
