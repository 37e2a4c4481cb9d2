"""Search library: articles in, ranked answers out. Plain Python, no web framework."""
