"""What a supplier's profile needs before its first invoice, in order (accounts/profile.py)."""

from __future__ import annotations

from backend.accounts.profile import invoicing_steps, missing_for_invoicing
from backend.invoices.draft_files import clean_filename

NEW = {"name": "Plomberie Neuve", "address_line1": "", "postal_code": "", "city": "", "vat_number": "", "iban": ""}


def test_a_new_supplier_has_only_its_name_and_the_steps_come_in_order():
    steps = invoicing_steps(NEW)
    assert [s.key for s in steps] == ["name", "address", "vat", "bank"]
    assert [s.done for s in steps] == [True, False, False, False]
    assert [s.title for s in missing_for_invoicing(NEW)] == ["Adresse", "N° de TVA intracommunautaire", "Coordonnées bancaires"]


def test_an_address_counts_only_whole_and_the_vat_franchise_needs_no_number():
    half = NEW | {"address_line1": "3 rue Neuve", "city": "Nantes"}
    assert not invoicing_steps(half)[1].done  # no postal code yet
    assert invoicing_steps(half | {"postal_code": "44000"})[1].done
    assert invoicing_steps(NEW | {"vat_franchise": True})[2].done  # art. 293 B: no VAT to invoice


def test_a_complete_profile_misses_nothing():
    assert missing_for_invoicing(NEW | {"address_line1": "3 rue Neuve", "postal_code": "44000", "city": "Nantes",
                                        "vat_number": "FR44732829320", "iban": "FR7630006000011234567890189"}) == []


def test_a_photo_keeps_its_name_without_folders_or_control_characters():
    assert clean_filename("C:\\Users\\moi\\chantier.jpg") == "chantier.jpg"
    assert clean_filename("../../etc/photo\u0000.png") == "photo.png"
    assert clean_filename("   ") == "piece-jointe"
