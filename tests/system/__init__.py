"""The service as deployed: gunicorn processes, PostgreSQL, Redis, faults and hostile clients."""
