"""The one decision: how many suggestions, or none, and why."""

from __future__ import annotations

import pytest

from search.decision import AbstainRule, decide, rule_for, rule_key

RULE = AbstainRule(min_dense=0.4, min_chargram=0.15)
CLOSE = {"dense": 0.6, "chargram": 0.05, "bm25": 3.0}


def test_nothing_is_suggested_when_the_best_is_far_in_meaning_and_wording() -> None:
    decision = decide([5.0, 4.0], {"dense": 0.2, "chargram": 0.1, "bm25": 1.0}, RULE)
    assert decision.count == 0 and decision.abstained
    assert "0.20 < 0.40" in decision.reason and "0.10 < 0.15" in decision.reason


@pytest.mark.parametrize("best", [CLOSE, {"dense": 0.1, "chargram": 0.2, "bm25": 0.0}])
def test_close_in_meaning_or_in_wording_is_enough(best) -> None:
    assert decide([5.0], best, RULE).count == 1


def test_a_second_suggestion_only_when_close_to_the_first() -> None:
    scores = [10.0, 7.0, 5.0, 1.0]
    assert decide(scores, CLOSE, RULE, relative_margin=0.6).count == 2
    assert decide(scores, CLOSE, RULE, relative_margin=0.8).count == 1
    assert decide(scores, CLOSE, RULE, relative_margin=0.0).count == 4
    assert "close to the best" in decide(scores, CLOSE, RULE, relative_margin=0.6).reason


def test_without_a_rule_the_margin_still_applies() -> None:
    assert decide([10.0, 2.0], {"dense": 0.0, "chargram": 0.0}, None, 0.6).count == 1
    assert decide([], CLOSE, None).count == 0


def test_the_rule_follows_where_the_best_article_was_compared() -> None:
    rules = {"sv": RULE, "translated_sv": AbstainRule(0.2, 0.1), "default": AbstainRule(0.5, 0.5)}
    assert rule_for(rules, rule_key("sv", translated=False)) is RULE
    assert rule_for(rules, rule_key("sv", translated=True)).min_dense == 0.2
    assert rule_for(rules, rule_key("fi", translated=False)).min_dense == 0.5


TIERED = AbstainRule(min_dense=0.4, min_chargram=0.15, unfamiliar_below=0.7,
                     unfamiliar_dense=0.55, unfamiliar_chargram=0.25)
MIDDLING = {"dense": 0.5, "chargram": 0.2, "bm25": 2.0}


def test_a_question_about_what_the_help_center_never_mentions_must_come_closer() -> None:
    assert decide([5.0], MIDDLING, TIERED, familiar_share=0.9).count == 1
    decision = decide([5.0], MIDDLING, TIERED, familiar_share=0.3,
                      unknown_words=("gym", "membership"))
    assert decision.abstained
    assert "gym, membership" in decision.reason and "0.50 < 0.55" in decision.reason
    assert decide([5.0], {"dense": 0.6, "chargram": 0.0}, TIERED, familiar_share=0.3).count == 1


def test_the_stricter_cuts_never_loosen_the_rule() -> None:
    loose = AbstainRule(min_dense=0.4, min_chargram=0.15, unfamiliar_below=0.7,
                        unfamiliar_dense=0.3, unfamiliar_chargram=0.1)
    assert loose.cuts(0.2) == (0.4, 0.15)
    assert not decide([5.0], {"dense": 0.35, "chargram": 0.12}, loose, familiar_share=0.2).count


def test_without_a_familiar_share_the_rule_is_the_plain_one() -> None:
    assert TIERED.cuts() == (0.4, 0.15) and RULE.cuts(0.0) == (0.4, 0.15)
    assert "never mentions" not in decide([5.0], {"dense": 0.1, "chargram": 0.1}, TIERED).reason


def test_a_question_whose_words_the_help_center_never_uses_gets_nothing_however_close() -> None:
    # «какая погода в Париже» on a help center about file storage: both words unknown.
    decision = decide([9.0], CLOSE, RULE, familiar_share=0.0, unknown_words=("погода", "париже"))
    assert decision.abstained and "погода, париже" in decision.reason
    # One unknown word alone is left to the rule ("how do I get my coworkers in here").
    assert decide([9.0], CLOSE, RULE, familiar_share=0.0, unknown_words=("coworkers",)).count == 1
    # A word the help center knows, and the question is judged by its match.
    assert decide([9.0], CLOSE, RULE, familiar_share=0.2,
                  unknown_words=("погода", "париже")).count == 1
    # With the decision switched off (no rule), everything is shown.
    assert decide([9.0], CLOSE, None, familiar_share=0.0,
                  unknown_words=("погода", "париже")).count == 1
