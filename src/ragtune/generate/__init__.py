"""Grounded generation: language-model backends, prompts with numbered sources, citation checks."""
