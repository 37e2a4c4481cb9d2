"""A synthetic help center of any size in English, Swedish and Russian, for scale benchmarks.

Articles are written from small word lists with a seeded random generator, so the same seed and
size give the same files byte for byte. They look like real articles to every part of the index:
front matter, an introduction, `## ` sections with numbered steps and plain paragraphs, `**bold**`
interface names, so the real markdown parser, chunker, stemmers and BM25 run on them. Each
section stays under the chunker's window, so an article gives one chunk for its introduction and
one per section, and a knowledge base of exactly N chunks can be asked for.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("en", "sv", "ru")
MIN_SECTIONS, MAX_SECTIONS = 3, 7


@dataclass(frozen=True)
class Words:
    """The vocabulary and sentence patterns of one language."""

    nouns: tuple[str, ...]
    verbs: tuple[str, ...]  # imperative, as steps are written
    adjectives: tuple[str, ...]
    ui: tuple[str, ...]  # names of buttons and menus
    steps: tuple[str, ...]  # patterns for a numbered step
    sentences: tuple[str, ...]  # patterns for a paragraph's sentence
    titles: tuple[str, ...]
    questions: tuple[str, ...]  # what a customer would type


WORDS = {
    "en": Words(
        nouns=("account", "password", "folder", "file", "photo", "invoice", "plan", "card",
               "payment", "link", "device", "phone", "backup", "upload", "download", "email",
               "address", "team", "member", "storage", "trash", "version", "app", "browser",
               "code", "receipt", "subscription", "settings", "profile", "notification"),
        verbs=("open", "check", "delete", "restore", "share", "change", "move", "copy",
               "download", "upload", "cancel", "renew", "verify", "update", "sync", "rename"),
        adjectives=("shared", "old", "new", "large", "private", "deleted", "locked", "yearly",
                    "monthly", "empty", "hidden", "missing", "slow", "broken", "default"),
        ui=("Settings", "Plan and billing", "Security", "Files", "Share", "Trash", "Account",
            "Devices", "Save", "Restore"),
        steps=("{Verb} the {adjective} {noun}.", "Click **{ui}**, then **{ui2}**.",
               "{Verb} your {noun} and wait a minute.", "Tap **{ui}** and {verb} the {noun}.",
               "If the {noun} is {adjective}, {verb} it again."),
        sentences=("Your {noun} stays {adjective} until you {verb} it.",
                   "We send an email when the {noun} is ready.",
                   "A {adjective} {noun} cannot be used to {verb} the {noun2}.",
                   "This takes a few minutes for a {adjective} {noun}.",
                   "You can {verb} the {noun} from any {noun2} you are signed in on.",
                   "Did the {noun} not arrive? Check the {adjective} {noun2} first."),
        titles=("{Verb} your {noun}", "The {noun} is {adjective}", "How to {verb} a {noun}",
                "Cannot {verb} the {adjective} {noun}"),
        questions=("how do I {verb} my {noun}", "my {noun} is {adjective}",
                   "cannot {verb} the {noun}", "where is the {adjective} {noun}"),
    ),
    "sv": Words(
        nouns=("konto", "lösenord", "mapp", "fil", "bild", "faktura", "abonnemang", "kort",
               "betalning", "länk", "enhet", "telefon", "säkerhetskopia", "uppladdning",
               "nedladdning", "e-post", "adress", "team", "medlem", "lagring", "papperskorg",
               "version", "app", "webbläsare", "kod", "kvitto", "prenumeration",
               "inställning", "profil", "avisering"),
        verbs=("öppna", "kontrollera", "radera", "återställ", "dela", "ändra", "flytta",
               "kopiera", "ladda ner", "ladda upp", "avbryt", "förnya", "verifiera",
               "uppdatera", "synka", "byt namn på"),
        adjectives=("delad", "gammal", "ny", "stor", "privat", "raderad", "låst", "årlig",
                    "månatlig", "tom", "dold", "saknad", "långsam", "trasig", "vanlig"),
        ui=("Inställningar", "Abonnemang och betalning", "Säkerhet", "Filer", "Dela",
            "Papperskorg", "Konto", "Enheter", "Spara", "Återställ"),
        steps=("{Verb} den {adjective} {noun}.", "Klicka på **{ui}** och sedan **{ui2}**.",
               "{Verb} din {noun} och vänta en minut.", "Tryck på **{ui}** och {verb} {noun}.",
               "Om {noun} är {adjective}, {verb} den igen."),
        sentences=("Din {noun} är {adjective} tills du {verb} den.",
                   "Vi skickar ett mejl när {noun} är klar.",
                   "En {adjective} {noun} går inte att {verb} från {noun2}.",
                   "Det tar några minuter för en {adjective} {noun}.",
                   "Du kan {verb} {noun} från varje {noun2} där du är inloggad.",
                   "Kom {noun} inte fram? Kontrollera {adjective} {noun2} först."),
        titles=("{Verb} din {noun}", "{Noun} är {adjective}", "Så kan du {verb} en {noun}",
                "Kan inte {verb} den {adjective} {noun}"),
        questions=("hur {verb} jag min {noun}", "min {noun} är {adjective}",
                   "kan inte {verb} {noun}", "var finns {adjective} {noun}"),
    ),
    "ru": Words(
        nouns=("аккаунт", "пароль", "папку", "файл", "фото", "счёт", "тариф", "карту",
               "оплату", "ссылку", "устройство", "телефон", "резервную копию", "загрузку",
               "скачивание", "почту", "адрес", "команду", "участника", "хранилище", "корзину",
               "версию", "приложение", "браузер", "код", "чек", "подписку", "настройки",
               "профиль", "уведомление"),
        verbs=("откройте", "проверьте", "удалите", "восстановите", "поделитесь", "измените",
               "переместите", "скопируйте", "скачайте", "загрузите", "отмените", "продлите",
               "подтвердите", "обновите", "синхронизируйте", "переименуйте"),
        adjectives=("общую", "старую", "новую", "большую", "личную", "удалённую",
                    "заблокированную", "годовую", "месячную", "пустую", "скрытую",
                    "пропавшую", "медленную", "сломанную", "основную"),
        ui=("Настройки", "Тариф и оплата", "Безопасность", "Файлы", "Поделиться", "Корзина",
            "Аккаунт", "Устройства", "Сохранить", "Восстановить"),
        steps=("{Verb} {adjective} {noun}.", "Нажмите **{ui}**, затем **{ui2}**.",
               "{Verb} {noun} и подождите минуту.", "Откройте **{ui}** и {verb} {noun}.",
               "Если не видите {noun}, {verb} {noun2} ещё раз."),
        sentences=("Мы пришлём письмо, когда {noun} будет готов.",
                   "Через {adjective} {noun} нельзя открыть {noun2}.",
                   "Для {noun} это занимает несколько минут.",
                   "Вы можете открыть {noun} на любом устройстве, где вы вошли в {noun2}.",
                   "Не пришло письмо? Сначала проверьте {adjective} {noun2}.",
                   "Сохраните {noun}, прежде чем менять {noun2}."),
        titles=("Как изменить {noun}", "Не открывается {noun}", "Как восстановить {noun}",
                "Что делать, если пропал {noun}"),
        questions=("как восстановить {noun}", "не могу открыть {adjective} {noun}",
                   "пропал {noun}", "где найти {noun}"),
    ),
}


def _fill(pattern: str, words: Words, rng: random.Random) -> str:
    verb = rng.choice(words.verbs)
    noun = rng.choice(words.nouns)
    ui = rng.sample(words.ui, 2)
    return pattern.format(verb=verb, Verb=verb[0].upper() + verb[1:], noun=noun,
                          Noun=noun[0].upper() + noun[1:], noun2=rng.choice(words.nouns),
                          adjective=rng.choice(words.adjectives), ui=ui[0], ui2=ui[1])


def _paragraph(words: Words, rng: random.Random, sentences: int) -> str:
    return " ".join(_fill(rng.choice(words.sentences), words, rng) for _ in range(sentences))


def _steps(words: Words, rng: random.Random, count: int) -> str:
    return "\n".join(f"{n}. {_fill(rng.choice(words.steps), words, rng)}"
                     for n in range(1, count + 1))


def article_text(lang: str, number: int, sections: int, rng: random.Random) -> str:
    """One article: front matter, a one-line introduction, then `sections` short sections
    (15-40 words: steps, a paragraph, or both), each one chunk. Short like an FAQ's answers,
    because encoding is what a large build spends its time on."""
    words = WORDS[lang]
    title = f"{_fill(rng.choice(words.titles), words, rng)} ({number})"
    front = {"title": title, "summary": _paragraph(words, rng, 1),
             "category": rng.choice(words.nouns[:8]),
             "tags": sorted(set(rng.sample(words.nouns, 3)))}
    lines = ["---"] + [f"{key}: {json.dumps(value, ensure_ascii=False)}"
                       for key, value in front.items()]
    lines += ["status: published", "updated: 2026-11-20", "---", "",
              _paragraph(words, rng, 1), ""]
    for _ in range(sections):
        lines += [f"## {_fill(rng.choice(words.titles), words, rng)}", ""]
        shape = rng.randrange(3)
        if shape != 1:
            lines += [_steps(words, rng, rng.randint(2, 4)), ""]
        if shape != 0:
            lines += [_paragraph(words, rng, rng.randint(1, 3)), ""]
    return "\n".join(lines)


def write_knowledge_base(root: Path, chunks: int, seed: int = 7) -> int:
    """Write articles into `root/<lang>/` (languages in turn) until they make exactly `chunks`
    chunks; returns the number of articles."""
    rng = random.Random(seed)
    written = 0
    number = 0
    while written < chunks:
        lang = LANGUAGES[number % len(LANGUAGES)]
        left = chunks - written
        # The introduction is a chunk too, so an article of s sections makes s + 1.
        sections = min(rng.randint(MIN_SECTIONS, MAX_SECTIONS), left - 1)
        folder = root / lang
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"topic-{number:06d}.md").write_text(
            article_text(lang, number, sections, rng) + "\n", encoding="utf-8")
        written += sections + 1
        number += 1
    return number


def questions(count: int, seed: int = 11) -> list[tuple[str, str]]:
    """`count` distinct (question, language) pairs, the languages in turn."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(out) < count:
        lang = LANGUAGES[len(out) % len(LANGUAGES)]
        words = WORDS[lang]
        text = _fill(rng.choice(words.questions), words, rng)
        if text in seen:
            # Distinct texts, so no answer is served from a cache; a number keeps them so.
            text = f"{text} {len(out)}"
        seen.add(text)
        out.append((text, lang))
    return out
