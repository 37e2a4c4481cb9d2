"""Units on their own: the search library, articles, settings, reports."""
