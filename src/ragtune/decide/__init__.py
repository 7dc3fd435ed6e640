"""Deciding between prompting, RAG, fine-tuning and both: the advisor, its cost model, measured comparisons."""
