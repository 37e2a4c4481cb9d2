"""The ranking policy's small functions, on hand-made signals."""

from __future__ import annotations

import numpy as np

from search.fusion import DEFAULT_WEIGHTS, IN_ENGLISH_WITHOUT_DICTIONARIES
from search.language import fallback_order
from search.decision import AbstainRule, decide, rule_for, rule_key
from search.ranking import (RankingConfig, add_feedback, feedback_applies, plan_embedding,
                            prefer_native, ranking_config_for)


def test_the_model_decides_whether_a_translation_is_embedded() -> None:
    assert ranking_config_for("all-MiniLM-L6-v2").embed_translation
    multilingual = ranking_config_for("paraphrase-multilingual-MiniLM-L12-v2", "sv")
    assert not multilingual.embed_translation
    assert multilingual.fallback_languages == ("sv",)


def test_one_fallback_order_for_articles_and_search() -> None:
    assert fallback_order("ru", ["en"], ["en", "sv", "ru"]) == ["ru", "en", "en", "sv"]
    assert fallback_order("en", ["en"], ["en", "sv"])[:1] == ["en"]


def test_keyword_evidence_chooses_what_is_embedded() -> None:
    config = RankingConfig(translation_band={"sv": (0.5, 2.0)})
    english = np.array([True, False])
    # English keywords far ahead: only the translation is embedded, for every candidate.
    plan = plan_embedding("glömt", "sv", "forgot", np.array([9.0, 1.0]), english, config)
    assert plan.texts == ["forgot"] and plan.in_english.all()
    # Native keywords far ahead: the question as typed.
    plan = plan_embedding("glömt", "sv", "forgot", np.array([0.1, 1.0]), english, config)
    assert plan.texts == ["glömt"] and not plan.in_english.any()
    # Inside the band: both, each candidate scored by the one in its language.
    plan = plan_embedding("glömt", "sv", "forgot", np.array([1.0, 1.0]), english, config)
    assert plan.texts == ["glömt", "forgot"]
    assert plan.vector_of(2).tolist() == [1, 0]
    # A multilingual model never embeds the translation: it compares the question as typed
    # with every article through its English version, translated or not.
    multilingual = RankingConfig(embed_translation=False)
    for translation in ("forgot", None):
        plan = plan_embedding("glömt", "sv", translation, np.array([9.0, 1.0]), english,
                              multilingual)
        assert plan.texts == ["glömt"] and plan.in_english.all()
    # An English question is compared as typed, with the articles as they are, by any model.
    for config in (multilingual, RankingConfig()):
        plan = plan_embedding("forgot", "en", None, np.array([9.0, 1.0]), english, config)
        assert plan.texts == ["forgot"] and not plan.in_english.any()
    # The offline model gets a Swedish or Russian question's translation even where the native
    # articles' keywords are far ahead (it reads English only).
    default = RankingConfig()
    swedish = plan_embedding("glömt", "sv", "forgot", np.array([0.1, 9.0]), english, default)
    assert swedish.texts == ["forgot"] and swedish.in_english.all()
    russian = plan_embedding("забыл", "ru", "forgot", np.array([0.1, 9.0]), english, default)
    assert russian.texts == ["forgot"] and russian.in_english.all()


def test_native_preference_lifts_only_the_customers_language() -> None:
    fused = prefer_native(np.array([1.0, 1.0]), np.array(["sv", "en"]), "sv",
                          RankingConfig(native_preference={"sv": 0.5}))
    assert fused.tolist() == [1.5, 1.0]


def test_no_lift_for_articles_compared_through_the_translation() -> None:
    # On one scale with the English articles (fusion.py in_english_sv), a Swedish article
    # compared in English needs no lift; one compared as typed still gets it.
    config = RankingConfig(native_preference={"sv": 0.5})
    assert "in_english_sv" in config.weights
    fused = prefer_native(np.ones(3), np.array(["sv", "sv", "en"]), "sv", config,
                          in_english=np.array([True, False, True]))
    assert fused.tolist() == [1.0, 1.5, 1.0]
    # Without the one-scale weights, every Swedish article is lifted as before.
    weights = {k: v for k, v in config.weights.items() if k != "in_english_sv"}
    fused = prefer_native(np.ones(3), np.array(["sv", "sv", "en"]), "sv",
                          RankingConfig(weights=weights, native_preference={"sv": 0.5}),
                          in_english=np.array([True, False, True]))
    assert fused.tolist() == [1.5, 1.5, 1.0]


def test_the_one_scale_is_the_one_chosen_for_how_the_language_is_read() -> None:
    model = "all-MiniLM-L6-v2"
    read = ranking_config_for(model).weights
    assert read["in_english_sv"] == DEFAULT_WEIGHTS["in_english_sv"]
    assert read["in_english_ru"] == DEFAULT_WEIGHTS["in_english_ru"]
    # Without a dictionary for it, Russian is weighed by the scale chosen without one, and
    # Swedish by its own weights (no scale was better for it).
    swedish_only = ranking_config_for(model, dictionary_languages=["sv"]).weights
    assert swedish_only["in_english_sv"] == DEFAULT_WEIGHTS["in_english_sv"]
    assert swedish_only["in_english_ru"] == IN_ENGLISH_WITHOUT_DICTIONARIES["in_english_ru"]
    assert swedish_only["in_english_ru"] != DEFAULT_WEIGHTS["in_english_ru"]
    none = ranking_config_for(model, dictionary_languages=[]).weights
    assert "in_english_sv" not in none and "in_english_ru" in none


def test_feedback_needs_enough_candidates_and_a_weight() -> None:
    config = RankingConfig()
    assert feedback_applies(np.array(["en"] * 5), "en", config) is None  # too few to trust
    weights = feedback_applies(np.array(["en"] * 6), "en", config)
    assert weights is not None and (weights > 0).all()
    assert feedback_applies(np.array(["sv"] * 6), "sv", config) is None  # weight 0 for Swedish
    moved = add_feedback(np.zeros(3), np.array([0.2, 0.4, 0.6]), np.array([2.0, 2.0, 2.0]))
    assert np.allclose(moved, [0.0, 1.0, 2.0])


def test_abstention_reads_the_rule_of_the_language_compared_in() -> None:
    config = RankingConfig(abstain={"sv": AbstainRule(0.9, 0.9),
                                    "translated_sv": AbstainRule(0.1, 0.9),
                                    "default": AbstainRule(0.5, 0.5)})
    best = {"dense": 0.3, "chargram": 0.0, "bm25": 0.0}
    assert config.abstain is not None
    native = rule_for(config.abstain, rule_key("sv", translated=False))
    assert decide([1.0], best, native).abstained
    translated = rule_for(config.abstain, rule_key("sv", translated=True))
    assert not decide([1.0], best, translated).abstained
    assert rule_for(config.abstain, rule_key("ru", False)) == AbstainRule(0.5, 0.5)
    assert not decide([1.0], best, None).abstained


def test_the_production_model_has_its_own_decision() -> None:
    from search.decision import (DEFAULT_ABSTAIN, E5_ABSTAIN, E5_ABSTAIN_WITHOUT_DICTIONARIES,
                                 E5_MARGINS)
    from search.embedder import INT8_NAME_SUFFIX

    e5 = ranking_config_for("intfloat/multilingual-e5-small")
    assert e5.abstain == E5_ABSTAIN and e5.relative_margins == E5_MARGINS
    assert e5.abstain != DEFAULT_ABSTAIN
    # Whatever folder it is loaded from, and however it is run.
    assert ranking_config_for(f"/models/multilingual-e5-small-4bit{INT8_NAME_SUFFIX}",
                              dictionary_languages=()).abstain == E5_ABSTAIN_WITHOUT_DICTIONARIES
    # Another family's cosines are not on e5's scale: the offline model's decision.
    assert ranking_config_for("intfloat/multilingual-e5-large-instruct").abstain == DEFAULT_ABSTAIN
    assert ranking_config_for("paraphrase-multilingual-MiniLM-L12-v2").abstain == DEFAULT_ABSTAIN
    # ... and `kb index` says so.
    from search.decision import decision_measured
    from search.embedder import OFFLINE_MODEL
    assert decision_measured(OFFLINE_MODEL) and decision_measured("intfloat/multilingual-e5-small")
    assert not decision_measured("paraphrase-multilingual-MiniLM-L12-v2")
    assert not decision_measured("intfloat/multilingual-e5-large-instruct")


def test_the_decision_s_rules_follow_whether_dictionaries_read_the_questions(tmp_path,
                                                                           monkeypatch) -> None:
    from kb.searcher import ranking_config
    from kb.settings import load_settings
    from search.decision import ABSTAIN_WITHOUT_DICTIONARIES, DEFAULT_ABSTAIN
    from search.lexicon import MIN_DICTIONARY_ENTRIES

    assert ranking_config_for("all-MiniLM-L6-v2").abstain == DEFAULT_ABSTAIN
    assert ranking_config_for("all-MiniLM-L6-v2", dictionary_languages=()).abstain == \
        ABSTAIN_WITHOUT_DICTIONARIES
    assert DEFAULT_ABSTAIN["sv"] != ABSTAIN_WITHOUT_DICTIONARIES["sv"]

    def rules(**entries: int):  # type: ignore[no-untyped-def]
        folder = tmp_path / ("-".join(sorted(entries)) or "none")
        folder.mkdir(exist_ok=True)
        for lang, count in entries.items():
            (folder / f"{lang}-en.test.tsv").write_text(
                "".join(f"ord{n}\tword{n}\t1.0\n" for n in range(count)), encoding="utf-8")
        settings = load_settings(environ={}, overrides={"LEXICON_DIR": str(folder),
                                                         "INSTANCE_PATH": str(tmp_path)})
        return ranking_config(settings, "all-MiniLM-L6-v2").abstain

    enough = MIN_DICTIONARY_ENTRIES
    assert rules() == ABSTAIN_WITHOUT_DICTIONARIES
    assert rules(sv=enough, ru=enough) == DEFAULT_ABSTAIN
    # Each rule follows the languages it judges: Swedish read, Russian not.
    only_sv = rules(sv=enough)
    assert only_sv["sv"] == DEFAULT_ABSTAIN["sv"]
    assert only_sv["ru"] == ABSTAIN_WITHOUT_DICTIONARIES["ru"]
    assert only_sv["translated_sv"] == DEFAULT_ABSTAIN["translated_sv"]
    assert only_sv["translated_ru"] == ABSTAIN_WITHOUT_DICTIONARIES["translated_ru"]
    # The margins follow the same way.
    from search.decision import DEFAULT_MARGINS, MARGINS_WITHOUT_DICTIONARIES
    assert ranking_config_for("all-MiniLM-L6-v2").relative_margins == DEFAULT_MARGINS
    assert ranking_config_for("all-MiniLM-L6-v2", dictionary_languages=("sv",)).relative_margins \
        == {**DEFAULT_MARGINS, **{key: MARGINS_WITHOUT_DICTIONARIES[key]
                                  for key in ("en", "ru", "translated_ru", "default")}}
    # Without a Russian dictionary, Russian in Latin letters is judged as English, so the English
    # rule follows the Russian dictionary (the two tables' English rules may be chosen alike:
    # a distinct one shows which table it comes from).
    import search.decision as decision
    lenient = AbstainRule(min_dense=0.1, min_chargram=0.01)
    monkeypatch.setitem(decision.ABSTAIN_WITHOUT_DICTIONARIES, "en", lenient)
    assert rules(sv=enough)["en"] == lenient
    assert rules(sv=enough, ru=enough)["en"] == DEFAULT_ABSTAIN["en"]
    # A few dozen product terms are not a dictionary.
    assert rules(ru=40)["ru"] == ABSTAIN_WITHOUT_DICTIONARIES["ru"]
