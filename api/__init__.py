"""The REST API (FastAPI): app factory, routes, schemas, security, metrics and the chat page."""
