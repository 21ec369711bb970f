"""planindex: search and audit Japanese local-government planning and evaluation PDFs."""

__version__ = "0.1.0"
