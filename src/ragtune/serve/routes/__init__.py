"""The endpoints: OpenAI-compatible (``openai``) and ragtune's own (``native``)."""
