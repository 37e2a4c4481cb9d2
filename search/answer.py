"""What a search answers: the suggested articles with their snippets, and its one JSON form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from search.answer_store import AnswerStore
from search.document import Document
from search.ranking import Signals
from search.snippet import highlight, query_stems

# How much each query word a chunk shares counts, next to its dense score, in choosing the snippet.
SNIPPET_WORD_BONUS = 0.05


def shown_score(score: float) -> float:
    """A result's score as answers show it, and as the decision reads it."""
    return round(score, 4)


@dataclass(frozen=True)
class Result:
    """One suggested article: what the customer sees and why it ranked."""

    id: str
    slug: str
    lang: str
    title: str
    summary: str
    snippet: str
    anchor: str
    score: float
    fallback: bool
    signals: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain data, the signals included."""
        # Field by field, not asdict(): its recursive deep copy was a tenth of answering from the cache.
        return {**self.__dict__, "signals": dict(self.signals)}


@dataclass(frozen=True)
class SearchResponse:
    """Ranked results in the language used, or none when the engine abstained."""

    query: str
    lang: str
    lang_reason: str
    results: list[Result]
    abstained: bool
    took_ms: float
    repaired_query: str | None = None  # "Showing results for …" when the input was repaired
    cache: str | None = None  # None: searched now; "local": this process's cache; "shared"
    explanation: str = ""  # why this many suggestions, or none (search/decision.py)
    rule: str = ""  # which abstention rule judged the best article (search/decision.py)
    # How much of the question the knowledge base speaks of, and the words it never uses
    # (search/vocabulary.py).
    familiar_share: float = 1.0
    unknown_words: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a shared cache (where it came from is not part of the answer)."""
        data = asdict(self)
        del data["cache"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchResponse:
        """The response `to_dict` described."""
        values = dict(data)
        values["results"] = [Result(**result) for result in values["results"]]
        values["unknown_words"] = tuple(values.get("unknown_words", ()))
        return cls(**values)


def to_json(response: SearchResponse) -> dict[str, Any]:
    """The answer as the API and `kb search --json` show it."""
    return {"query": response.query, "lang": response.lang, "lang_reason": response.lang_reason,
            "repaired_query": response.repaired_query, "abstained": response.abstained,
            "results": [r.to_dict() for r in response.results],
            "took_ms": round(response.took_ms, 2)}


class AnswerBuilder:
    """Turns a ranked position into the Result a customer sees."""

    def __init__(self, documents: Sequence[Document]):
        # Answers are built from this, not from the documents: see search/answer_store.py.
        self._store = AnswerStore(documents)

    def result(self, position: int, score: float, query_lang: str, query: str,
               signals: Signals, stems: frozenset[str] | None = None) -> Result:
        """The article at `position`, with the snippet of its chunk that best answers `query`;
        `stems` is `query_stems(query, <the article's language>)` when the caller has it."""
        assert signals.chunk_scores is not None
        doc = self._store.document(position)
        if stems is None:
            stems = query_stems(query, doc.lang)
        chunks = self._store.chunks_of(position)
        # The snippet comes from the chunk closest in meaning, nudged by the words it shares.
        overlaps = self._store.stem_overlaps(stems, chunks)
        scores = signals.chunk_scores[chunks.start:chunks.stop].tolist()
        values = [score + SNIPPET_WORD_BONUS * shared for score, shared in zip(scores, overlaps)]
        chunk = (self._store.chunk(chunks[max(range(len(values)), key=values.__getitem__)])
                 if values else None)
        text = chunk.source if chunk else doc.text
        return Result(
            id=doc.id, slug=doc.slug, lang=doc.lang, title=doc.title, summary=doc.summary,
            snippet=highlight(text, query, doc.lang, wanted=stems),
            anchor=chunk.anchor if chunk else "", score=shown_score(score),
            fallback=doc.lang != query_lang, signals=signals.of(position))
