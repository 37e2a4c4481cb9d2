"""Small open-dictionary downloads written to a folder, as `kb dict import` reads them."""

from __future__ import annotations

import gzip
from pathlib import Path

WIKTIONARY_SV = """\
# English :: Swedish dictionary extracted from http://en.wiktionary.org/
get {v} (obtain) :: få, erhålla
sheep {n} (animal) :: får {n}
send {v} (make something go somewhere) :: skicka, sända
post {v} (send mail) :: posta, skicka
print {v} (produce on paper) :: skriva ut
password {n} (word used to gain access) :: lösenord {n}
card {n} (piece of stiff paper) :: kort {n}
gift {n} (something given) :: present {c}, gåva {c} [formal]
order {n} (request to supply something) :: beställning {c}
receipt {n} (proof of payment) :: kvitto {n}
colour {n} :: SEE: color ::
"""

# The same tables as ABBYY DSL (UTF-16, dictzip): stress marks, grammar, transliterations and
# escaped qualifiers around the Russian words.
DSL_RU = """\
#NAME "English-Russian Wiktionary"
#INDEX_LANGUAGE "English"
#CONTENTS_LANGUAGE "Russian"

send
\t[m1]отпра\u0301вить [p]<pf>[/p] [c gray]/otprávitʹ/[/c], \
посла\u0301ть [p]<pf>[/p] [c gray]/poslátʹ/[/c][/m]
\t[m1]\\[mail\\] отпра\u0301вить [p]<pf>[/p] [c gray]/otprávitʹ/[/c][/m]
order
\t[m1]зака\u0301з [p]m[/p] [c gray]/zakáz/[/c][/m]
password
\t[m1]паро\u0301ль [p]m[/p] [c gray]/parólʹ/[/c][/m]
"""


def write_wiktionary_text(folder: Path, text: str = WIKTIONARY_SV) -> Path:
    path = folder / "en-sv-enwiktionary.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_dsl(folder: Path, text: str = DSL_RU) -> Path:
    path = folder / "en-ru-enwiktionary.dsl.dz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("utf-16")))
    return path
