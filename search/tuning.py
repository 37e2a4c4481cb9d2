"""Choosing the decision's parameters the way a new customer meets them: leave one help center out.

Every help center is left out in turn: the abstention rules and the relative margin are chosen
on the others and scored on it, so the reported figure is what a help center we never tuned on
gets. Each help center's questions are searched once with the decision switched off; the
decision is then replayed on the recorded candidates for every parameter on the grid (it only
reads their scores and signals), which keeps a whole leave-one-out run to one search per question.

The replay is exact but for one thing: when the engine abstains on a question it compared
through its English translation, it takes a second look as typed (search/engine.py). The replay
does not, so its false abstention is an upper bound.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from search.decision import AbstainRule, decide

# The grid: thresholds of meaning (dense cosine) and wording (character n-gram cosine).
DENSE_GRID = tuple(round(float(x), 3) for x in np.arange(0.20, 0.62, 0.02))
CHARGRAM_GRID = tuple(round(float(x), 3) for x in np.arange(0.04, 0.32, 0.01))
MARGIN_GRID = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)
# The most false abstention the training help centers may show (issue target: .05).
MAX_FALSE_ABSTENTION = 0.05
# The most Recall@3 a margin may cost on the training help centers.
MAX_RECALL_COST = 0.01


@dataclass(frozen=True)
class Recorded:
    """One question searched with the decision off: what the decision would read."""

    task: str
    lang: str
    relevant: frozenset[str]
    rule: str
    ids: tuple[str, ...]
    scores: tuple[float, ...]
    best: Mapping[str, float]


@dataclass
class Choice:
    """Parameters chosen on some help centers."""

    abstain: dict[str, AbstainRule] = field(default_factory=dict)
    relative_margin: float = 0.0


def decision_off(config: Any) -> Any:
    """A ranking config that shows every result up to the limit (to record candidates)."""
    return replace(config, abstain=None, relative_margin=0.0)


def replay(question: Recorded, rules: Mapping[str, AbstainRule] | None,
           relative_margin: float) -> tuple[str, ...]:
    """The ids the engine would show for a recorded question under these parameters."""
    rule = None
    if rules is not None:
        rule = rules.get(question.rule, rules.get("default"))
    decision = decide(question.scores, question.best, rule, relative_margin, question.rule)
    return question.ids[:decision.count]


def scores_of(questions: Sequence[Recorded], rules: Mapping[str, AbstainRule] | None,
              relative_margin: float) -> dict[str, dict[str, float]]:
    """Per task: Recall@3 (a question found when any answer is in the top 3), false abstention,
    abstention on off-topic questions, and suggestions shown per answerable question."""
    by_task: dict[str, list[Recorded]] = defaultdict(list)
    for question in questions:
        by_task[question.task].append(question)
    out: dict[str, dict[str, float]] = {}
    for task, members in sorted(by_task.items()):
        shown = [replay(q, rules, relative_margin) for q in members]
        answerable = [(q, s) for q, s in zip(members, shown) if q.relevant]
        if answerable:
            out[task] = {
                "n": len(answerable),
                "recall@3": float(np.mean([bool(q.relevant & set(s[:3])) for q, s in answerable])),
                "false_abstain_rate": float(np.mean([not s for _, s in answerable])),
                "shown": float(np.mean([min(len(s), 3) for _, s in answerable])),
            }
        else:
            out[task] = {"n": len(members),
                         "abstain_rate": float(np.mean([not s for s in shown]))}
    return out


def choose_rule(questions: Sequence[Recorded], key: str,
                max_false: float = MAX_FALSE_ABSTENTION) -> AbstainRule | None:
    """The thresholds for questions judged by rule `key` that abstain on the most off-topic
    questions while abstaining on at most `max_false` of the answerable ones; None when the
    questions give nothing to choose from."""
    judged = [q for q in questions if q.rule == key]
    answerable = [q for q in judged if q.relevant]
    if not answerable:
        return None
    off_topic = [q for q in judged if not q.relevant]
    a_dense = np.array([q.best["dense"] for q in answerable])
    a_chars = np.array([q.best["chargram"] for q in answerable])
    o_dense = np.array([q.best["dense"] for q in off_topic])
    o_chars = np.array([q.best["chargram"] for q in off_topic])
    best: tuple[float, float, AbstainRule] | None = None
    for min_dense in DENSE_GRID:
        for min_chargram in CHARGRAM_GRID:
            false = float(np.mean((a_dense < min_dense) & (a_chars < min_chargram)))
            if false > max_false:
                continue
            caught = (float(np.mean((o_dense < min_dense) & (o_chars < min_chargram)))
                      if off_topic else 0.0)
            # More off-topic caught first; then less false abstention; then the lower cut.
            rank = (caught, -false)
            if best is None or rank > best[:2]:
                best = (caught, -false, AbstainRule(min_dense, min_chargram))
    return best[2] if best else AbstainRule(DENSE_GRID[0], CHARGRAM_GRID[0])


def choose(questions: Sequence[Recorded]) -> Choice:
    """Abstention rules per rule key, then the largest margin that keeps Recall@3."""
    choice = Choice()
    for key in sorted({q.rule for q in questions}):
        rule = choose_rule(questions, key)
        if rule is not None:
            choice.abstain[key] = rule
    choice.abstain["default"] = AbstainRule(
        min(r.min_dense for r in choice.abstain.values()) if choice.abstain else DENSE_GRID[0],
        min(r.min_chargram for r in choice.abstain.values()) if choice.abstain
        else CHARGRAM_GRID[0])

    def recall(margin: float) -> float:
        tasks = scores_of(questions, choice.abstain, margin)
        return float(np.mean([m["recall@3"] for m in tasks.values() if "recall@3" in m]))

    full = recall(0.0)
    choice.relative_margin = max(
        (m for m in MARGIN_GRID if recall(m) >= full - MAX_RECALL_COST), default=0.0)
    return choice


def leave_one_out(recorded: Mapping[str, Sequence[Recorded]]
                  ) -> dict[str, tuple[Choice, dict[str, dict[str, float]]]]:
    """For every help center: the parameters chosen on the others, and its scores under them."""
    out = {}
    for left_out in recorded:
        training = [q for name, qs in recorded.items() if name != left_out for q in qs]
        choice = choose(training)
        out[left_out] = (choice, scores_of(recorded[left_out], choice.abstain,
                                           choice.relative_margin))
    return out


def record_questions(engine: Any, queries: Sequence[Mapping[str, Any]], limit: int = 10
                     ) -> list[Recorded]:
    """Search every question and keep what the decision reads; `engine` runs with the decision
    off (`decision_off`)."""
    recorded = []
    for query in queries:
        response = engine.search(query["text"], limit=limit)
        recorded.append(Recorded(
            task=query["task"], lang=response.lang,
            relevant=frozenset(query.get("relevant_ids") or ()), rule=response.rule,
            ids=tuple(r.id for r in response.results),
            scores=tuple(r.score for r in response.results),
            best=dict(response.results[0].signals) if response.results else
            {"dense": -1.0, "chargram": 0.0, "bm25": 0.0}))
    return recorded
