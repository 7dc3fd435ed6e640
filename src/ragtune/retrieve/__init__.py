"""Retrieval: dense, BM25 and hybrid search as a principal, fusion, rerank, MMR."""

from ragtune.retrieve.retriever import Retrieval, Retriever

__all__ = ["Retrieval", "Retriever"]
