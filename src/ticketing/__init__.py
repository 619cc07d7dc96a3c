"""ticketing: a real-time support-ticket backend (GraphQL over HTTP and WebSocket)."""

__version__ = "0.1.0"
