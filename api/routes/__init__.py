"""One router module per resource: sessions, users, items, recommendations, health."""
