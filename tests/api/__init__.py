"""The Flask app through its test client: every endpoint, the app factory, its services."""
