"""The model registry (``store``) and registry references in the configuration (``references``):
below every stage, so that loading a workspace's configuration, an embedder or a language model
can resolve ``name@production`` without importing the fine-tuning code that wrote it."""
