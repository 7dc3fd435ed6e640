"""Evaluation: data set loaders, metrics and runs."""
