"""Documents the platform issues about an invoice, for people who never read XML.

- certificate.py: the deposit certificate (attestation de dépôt) as a PDF, from stored data only.
- readable.py: the readable view of any invoice (HTML page and PDF), read from the stored
  original with the validation pipeline's own reader (detect + extract).
- render.py: the WeasyPrint plumbing both share (DejaVu fonts embedded, no network, off the loop).
- controllers.py: the web routes; the API route lives with the API (backend/api/controllers.py).
"""
