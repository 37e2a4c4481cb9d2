"""Articles close in meaning to one article, from the index's whole-article vectors."""

from __future__ import annotations

import numpy as np

from search.index import SearchIndex


def related_slugs(index: SearchIndex, slug: str, lang: str, limit: int = 3) -> list[str]:
    """Slugs of the articles nearest to `lang/slug`, compared within that article's language
    (a model that knows one language well compares best inside it), nearest first."""
    positions = index.positions_by_lang.get(lang)
    if positions is None or not len(positions):
        return []
    own = next((int(p) for p in positions if index.documents[int(p)].slug == slug), None)
    if own is None:
        return []
    query = index.article_vectors.vectors(np.array([own]))[0]
    scores = index.article_vectors.scores(query, k=max(64, 4 * limit))
    ranked = sorted((int(p) for p in positions if int(p) != own), key=lambda p: -scores[p])
    return [index.documents[p].slug for p in ranked[:limit]]
