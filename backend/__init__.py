"""Facteur: e-invoices from French suppliers to public entities."""
