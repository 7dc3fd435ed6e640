"""The HTTP service: ``ragtune serve`` (OpenAI-compatible and native endpoints, web UI)."""
