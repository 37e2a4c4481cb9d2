"""How many suggestions to show for one question: a few, one, or none.

One decision, fed by the ranked candidates' evidence, made in one place for the service, the
CLI and `kb eval`:
- *is the best article close enough?* (`AbstainRule`: close in meaning or in wording, per
  language; otherwise nothing is suggested and the customer goes straight to a human). A question
  that mostly names things the knowledge base never speaks of ("cancel my gym membership" next
  to "Cancel your plan"; search/vocabulary.py) must come closer than one in the help center's
  own words: the rule has stricter cuts for it;
- *is the next one close to the best?* (`relative_margins`: a second or third suggestion appears
  only when its score is at least that share of the first one's, so an unsure answer is not
  padded with unrelated articles).
Its parameters are data in `RankingConfig`, chosen leave-one-help-center-out (`kb tune`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

# The prefix of the rules for questions compared in English: through their English translation
# (the offline model), or as typed with the articles' English versions (a multilingual model).
TRANSLATED = "translated"
T = TypeVar("T")


@dataclass(frozen=True)
class AbstainRule:
    """Suggest nothing unless the best article is close enough in meaning or in wording."""

    min_dense: float
    min_chargram: float
    min_bm25: float = float("inf")
    # A question whose familiar share (search/vocabulary.py) is below `unfamiliar_below` is judged
    # by the stricter cuts after it (0: every question by the cuts above).
    unfamiliar_below: float = 0.0
    unfamiliar_dense: float = 0.0
    unfamiliar_chargram: float = 0.0

    def cuts(self, familiar_share: float = 1.0) -> tuple[float, float]:
        """The dense and character n-gram cuts for a question with this familiar share."""
        if familiar_share < self.unfamiliar_below:
            return (max(self.min_dense, self.unfamiliar_dense),
                    max(self.min_chargram, self.unfamiliar_chargram))
        return self.min_dense, self.min_chargram

    def keeps(self, dense: float, chargram: float, bm25: float = 0.0,
              familiar_share: float = 1.0) -> bool:
        min_dense, min_chargram = self.cuts(familiar_share)
        return dense >= min_dense or chargram >= min_chargram or bm25 >= self.min_bm25


# Chosen by `kb tune` on the six development help centers together; what a help center left
# out of that choice gets is in docs/quality.md. Each is the strictest set of cuts that keeps
# false abstention at or below .03 on the help centers it was chosen on; `unfamiliar_below` is the
# familiar share below which the stricter cuts apply. Questions in the help center's own words
# were almost never off-topic on the six help centers, so the first cuts are low in English
# and Russian: there the decision is in the stricter ones.
DEFAULT_ABSTAIN: Mapping[str, AbstainRule] = {
    "en": AbstainRule(min_dense=0.20, min_chargram=0.04, unfamiliar_below=0.7,
                      unfamiliar_dense=0.32, unfamiliar_chargram=0.19),
    # A Swedish or Russian question compared as typed: where no English article is a candidate,
    # and in the second look as typed after nothing came close through the translation
    # (search/engine.py), since the offline model reads both through their translation
    # (search/ranking.py). Kept from when `kb tune` saw them judged as typed; it now replays the
    # second look with these rules, but does not choose them.
    "sv": AbstainRule(min_dense=0.32, min_chargram=0.08, unfamiliar_below=0.6,
                      unfamiliar_dense=0.58, unfamiliar_chargram=0.14),
    "ru": AbstainRule(min_dense=0.20, min_chargram=0.04, unfamiliar_below=0.7,
                      unfamiliar_dense=0.42, unfamiliar_chargram=0.18),
    # A Swedish or Russian question compared in English, through its word-by-word translation;
    # per language, since the two readings come close to an answer in different ways.
    "translated_sv": AbstainRule(min_dense=0.22, min_chargram=0.07, unfamiliar_below=0.6,
                                 unfamiliar_dense=0.28, unfamiliar_chargram=0.29),
    "translated_ru": AbstainRule(min_dense=0.26, min_chargram=0.06, unfamiliar_below=0.7,
                                 unfamiliar_dense=0.28, unfamiliar_chargram=0.21),
    # Another language: part by part the most lenient of the rules above (`most_lenient` in
    # search/tuning.py).
    "default": AbstainRule(min_dense=0.20, min_chargram=0.04, unfamiliar_below=0.6,
                           unfamiliar_dense=0.28, unfamiliar_chargram=0.14),
}
# The same, chosen (`kb tune` with no dictionaries imported) for a knowledge base whose Swedish and
# Russian questions are read with the lexicon learned from its own translations only: without a
# dictionary, the everyday words the articles do not use cannot be recognised, so more words of
# answerable questions count as unknown and the cuts that suit the dictionaries abstain too often
# (docs/quality.md).
ABSTAIN_WITHOUT_DICTIONARIES: Mapping[str, AbstainRule] = {
    "en": AbstainRule(min_dense=0.20, min_chargram=0.04, unfamiliar_below=0.7,
                      unfamiliar_dense=0.32, unfamiliar_chargram=0.19),
    "sv": AbstainRule(min_dense=0.42, min_chargram=0.09, unfamiliar_below=0.6,
                      unfamiliar_dense=0.58, unfamiliar_chargram=0.11),
    "ru": AbstainRule(min_dense=0.20, min_chargram=0.04, unfamiliar_below=0.6,
                      unfamiliar_dense=0.46, unfamiliar_chargram=0.12),
    "translated_sv": AbstainRule(min_dense=0.22, min_chargram=0.08, unfamiliar_below=0.7,
                                 unfamiliar_dense=0.30, unfamiliar_chargram=0.10),
    "translated_ru": AbstainRule(min_dense=0.20, min_chargram=0.06, unfamiliar_below=0.6,
                                 unfamiliar_dense=0.26, unfamiliar_chargram=0.10),
    "default": AbstainRule(min_dense=0.20, min_chargram=0.04, unfamiliar_below=0.6,
                           unfamiliar_dense=0.26, unfamiliar_chargram=0.10),
}


# The languages whose questions the rule of each key reads ("translated_sv": a Swedish question
# compared in English). English needs no dictionary, but without a Russian one, Russian typed in
# Latin letters cannot be told from English (search/query.py) and is judged by the English rule
# too, which must then be more lenient. The default rule, the most lenient of its table, follows
# the table as a whole.
_READS = {"en": ("ru",), "sv": ("sv",), "ru": ("ru",), "translated_sv": ("sv",),
          "translated_ru": ("ru",), "default": ("sv", "ru")}


def abstain_rules(dictionary_languages: Collection[str] | None = None,
                  model: str = "") -> dict[str, AbstainRule]:
    """The model's rules (`decision_for`), per key: the one chosen with dictionaries where
    imported dictionaries read the questions it judges (`dictionary_languages`; None: every
    language), else the one chosen without them."""
    chosen = decision_for(model)
    return _per_key(chosen.abstain, chosen.abstain_without_dictionaries, dictionary_languages)


def suggestion_margins(dictionary_languages: Collection[str] | None = None,
                       model: str = "") -> dict[str, float]:
    """The margins, per key, chosen as the rules are (see `abstain_rules`)."""
    chosen = decision_for(model)
    return _per_key(chosen.margins, chosen.margins_without_dictionaries, dictionary_languages)


def _per_key(chosen_with: Mapping[str, T], chosen_without: Mapping[str, T],
             dictionary_languages: Collection[str] | None) -> dict[str, T]:
    return {key: value if dictionary_languages is None or all(
                lang in dictionary_languages for lang in _READS.get(key, ()))
            else chosen_without[key]
            for key, value in chosen_with.items()}


# A second or third suggestion only at this share of the first one's score, per rule key
# (chosen as above: for each key the largest that costs its questions' Recall@3 at most .01; the
# default is the lowest), with the open dictionaries imported and without them, like the rules.
# An English question's first answer stands out more clearly from the rest than a translated
# one's, so it shows fewer padded suggestions at the same recall.
DEFAULT_MARGINS: Mapping[str, float] = {"en": 0.75, "ru": 0.6, "translated_sv": 0.7,
                                         "translated_ru": 0.7, "default": 0.6}
MARGINS_WITHOUT_DICTIONARIES: Mapping[str, float] = {"en": 0.75, "ru": 0.7, "translated_sv": 0.7,
                                                      "translated_ru": 0.6, "default": 0.6}


def _steps(low: float, high: float, step: float) -> tuple[float, ...]:
    return tuple(round(low + i * step, 3) for i in range(int(round((high - low) / step)) + 1))


@dataclass(frozen=True)
class ModelDecision:
    """One model family's decision: a cosine means something different for every model (the
    offline model's unrelated texts score near 0, multilingual-e5's .7 and more), so each
    family has its own dense cuts to choose among and its own rules and margins chosen there."""

    # What its name says of a model of the family (lower case), and how `kb index` names it.
    marker: str
    family: str
    # The names of its tables here, with the open dictionaries and without, for `kb tune` to
    # say which it chose.
    names_with_dictionaries: str
    names_without_dictionaries: str
    dense_cuts: tuple[float, ...]  # the dense cuts `kb tune` chooses among
    abstain: Mapping[str, AbstainRule]
    abstain_without_dictionaries: Mapping[str, AbstainRule]
    margins: Mapping[str, float]
    margins_without_dictionaries: Mapping[str, float]


OFFLINE_DECISION = ModelDecision(
    "all-minilm-l6-v2", "the bundled all-MiniLM-L6-v2",
    "DEFAULT_ABSTAIN, DEFAULT_MARGINS", "ABSTAIN_WITHOUT_DICTIONARIES, MARGINS_WITHOUT_DICTIONARIES",
    _steps(0.20, 0.60, 0.02), DEFAULT_ABSTAIN, ABSTAIN_WITHOUT_DICTIONARIES, DEFAULT_MARGINS,
    MARGINS_WITHOUT_DICTIONARIES)


# The documented production model, intfloat/multilingual-e5-small, chosen by `kb tune` on the
# seven development help centers with it (docs/quality.md, "The production model"). It reads
# Swedish and Russian as typed and compares every article through its English version
# (search/ranking.py `in_every_language`), so their rules are the "translated_" ones; its
# cosines are high for any pair of texts, and its cuts with them.
E5_ABSTAIN: Mapping[str, AbstainRule] = {
    "en": AbstainRule(min_dense=0.83, min_chargram=0.09, unfamiliar_below=0.7,
                      unfamiliar_dense=0.83, unfamiliar_chargram=0.14),
    "translated_sv": AbstainRule(min_dense=0.75, min_chargram=0.12, unfamiliar_below=0.6,
                                 unfamiliar_dense=0.81, unfamiliar_chargram=0.14),
    "translated_ru": AbstainRule(min_dense=0.77, min_chargram=0.12, unfamiliar_below=0.6,
                                 unfamiliar_dense=0.80, unfamiliar_chargram=0.25),
    "default": AbstainRule(min_dense=0.75, min_chargram=0.09, unfamiliar_below=0.6,
                           unfamiliar_dense=0.80, unfamiliar_chargram=0.14),
}
E5_ABSTAIN_WITHOUT_DICTIONARIES: Mapping[str, AbstainRule] = {
    "en": AbstainRule(min_dense=0.83, min_chargram=0.09, unfamiliar_below=0.7,
                      unfamiliar_dense=0.83, unfamiliar_chargram=0.14),
    "translated_sv": AbstainRule(min_dense=0.79, min_chargram=0.10, unfamiliar_below=0.6,
                                 unfamiliar_dense=0.79, unfamiliar_chargram=0.13),
    "translated_ru": AbstainRule(min_dense=0.77, min_chargram=0.10, unfamiliar_below=0.7,
                                 unfamiliar_dense=0.79, unfamiliar_chargram=0.15),
    "default": AbstainRule(min_dense=0.77, min_chargram=0.09, unfamiliar_below=0.6,
                           unfamiliar_dense=0.79, unfamiliar_chargram=0.13),
}
E5_MARGINS: Mapping[str, float] = {"en": 0.75, "translated_sv": 0.8, "translated_ru": 0.7,
                                    "default": 0.7}
E5_MARGINS_WITHOUT_DICTIONARIES: Mapping[str, float] = {
    "en": 0.75, "translated_sv": 0.6, "translated_ru": 0.6, "default": 0.6}
E5_DECISION = ModelDecision(
    "multilingual-e5", "multilingual-e5",
    "E5_ABSTAIN, E5_MARGINS", "E5_ABSTAIN_WITHOUT_DICTIONARIES, E5_MARGINS_WITHOUT_DICTIONARIES",
    _steps(0.70, 0.95, 0.01), E5_ABSTAIN, E5_ABSTAIN_WITHOUT_DICTIONARIES, E5_MARGINS,
    E5_MARGINS_WITHOUT_DICTIONARIES)


def _family_of(model: str) -> ModelDecision | None:
    """The family whose decision was chosen for this model, by its name (a local folder keeps
    the family's `marker` in its name for it), or None."""
    lowered = model.lower()
    if "instruct" in lowered:
        return None  # an instruction-tuned variant reads other prompts, and scores otherwise
    return next((family for family in (E5_DECISION, OFFLINE_DECISION)
                 if family.marker in lowered), None)


def decision_for(model: str) -> ModelDecision:
    """The decision of a model's family; the offline model's for any other model, until it is
    measured with `kb tune` and given a table here (`decision_measured` tells)."""
    return _family_of(model) or OFFLINE_DECISION


def decision_measured(model: str) -> bool:
    """Whether the model's decision was chosen for its family, not lent by the offline model."""
    return _family_of(model) is not None


# No margin for any question: every result up to the limit.
SHOW_ALL: Mapping[str, float] = {"default": 0.0}


def margin_for(margins: Mapping[str, float], key: str) -> float:
    """The relative margin for questions judged by the rule `key` (see `rule_key`), else the
    default one (0: every result up to the limit)."""
    return margins.get(key, margins.get("default", 0.0))


@dataclass(frozen=True)
class Decision:
    """How many of the ranked results to show, and why (for `kb search --explain`)."""

    count: int
    reason: str
    rule: str = ""  # the rule_key that judged the best article

    @property
    def abstained(self) -> bool:
        return self.count == 0


def rule_key(lang: str, translated: bool) -> str:
    """Which rule judges a question: its language's, or "translated_<lang>" when the best
    article was compared in English (`TRANSLATED`). Per language: a word-by-word reading of
    Swedish and one of Russian come as close to an answer in different ways."""
    return f"{TRANSLATED}_{lang}" if translated else lang


def rule_for(rules: Mapping[str, AbstainRule], key: str) -> AbstainRule:
    """The rule for `key` (see `rule_key`), else the default one."""
    return rules.get(key, rules["default"])


# A question that names at least this many content words, none of which the knowledge base uses
# in any form or language (familiar share 0), is about something else however close its best
# article seems: that closeness is then the model's reading of words no article has (an
# English-only model reading untranslated Russian finds every Russian text alike). One unknown
# word alone is not enough ("how do I get my coworkers in here" asks for an invitation).
NOTHING_KNOWN_WORDS = 2


def names_nothing_known(familiar_share: float, unknown_words: Sequence[str]) -> bool:
    """Whether a question is about something else by its words alone (`NOTHING_KNOWN_WORDS`)."""
    return familiar_share == 0.0 and len(unknown_words) >= NOTHING_KNOWN_WORDS


def decide(scores: Sequence[float], best: Mapping[str, float], rule: AbstainRule | None,
           relative_margin: float = 0.0, key: str = "", familiar_share: float = 1.0,
           unknown_words: Sequence[str] = ()) -> Decision:
    """How many of the results (ranked by `scores`, best first; `best` holds the first one's
    dense, chargram and bm25 signals) to suggest, for a question with that familiar share
    (search/vocabulary.py) and `unknown_words`, the words no article uses."""
    if not scores:
        return Decision(0, "no article in the languages this customer is served", key)
    if rule is not None and names_nothing_known(familiar_share, unknown_words):
        return Decision(0, f"the help center uses none of the words the question names "
                           f"({', '.join(unknown_words)})", key)
    if rule is not None and not rule.keeps(best["dense"], best["chargram"], best.get("bm25", 0.0),
                                           familiar_share):
        min_dense, min_chargram = rule.cuts(familiar_share)
        stricter = (min_dense, min_chargram) != (rule.min_dense, rule.min_chargram)
        return Decision(0, (
            (f"the question names what this help center never mentions ("
             f"{', '.join(unknown_words)}; familiar share {familiar_share:.2f} < "
             f"{rule.unfamiliar_below:.2f}), "
             "and " if stricter else "")
            + f"the best article is neither close in meaning (dense {best['dense']:.2f} < "
            f"{min_dense:.2f}) nor in wording (character n-grams {best['chargram']:.2f} < "
            f"{min_chargram:.2f}"
            + (f", BM25 {best.get('bm25', 0.0):.2f} < {rule.min_bm25:.2f}"
               if rule.min_bm25 != float("inf") else "") + ")"), key)
    top = scores[0]
    count = 1
    while (count < len(scores)
           and (relative_margin <= 0 or (top > 0 and scores[count] >= relative_margin * top))):
        count += 1
    if count < len(scores):
        return Decision(count, f"{count} close to the best (score at least "
                               f"{relative_margin:.2f} of the first's)", key)
    return Decision(count, "close enough", key)
