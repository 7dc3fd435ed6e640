"""ragtune: RAG, fine-tuning, or both — measured on your own data."""

__version__ = "0.1.0"
