"""A small help center in three languages, for the engine's tests."""

from __future__ import annotations

ARTICLES = {
    ("en", "reset-password"): ("Reset your password", "Forgot your password? Get a reset link.",
                               "## Steps\n\nClick Forgot password and follow the email link.\n"),
    ("sv", "reset-password"): ("Återställ lösenordet", "Glömt lösenordet? Be om en länk.",
                               "## Gör så här\n\nKlicka på Glömt lösenord och följ länken i mejlet.\n"),
    ("ru", "reset-password"): ("Сброс пароля", "Забыли пароль? Запросите ссылку.",
                               "## Что делать\n\nНажмите «Забыли пароль» и перейдите по ссылке.\n"),
    ("en", "cancel-and-refund"): ("Cancel and get a refund", "Cancel any time; refunds within 14 days.",
                                  "## Refunds\n\nAsk for a refund within 14 days of paying.\n"),
    ("sv", "cancel-and-refund"): ("Avsluta och få pengarna tillbaka", "Säg upp när du vill.",
                                  "## Återbetalning\n\nBe om återbetalning inom 14 dagar.\n"),
    ("ru", "cancel-and-refund"): ("Отмена и возврат денег", "Отмените подписку в любой момент.",
                                  "## Возврат\n\nВозврат денег возможен в течение 14 дней.\n"),
    ("en", "linux-command-line"): ("Use Driftbox from the Linux terminal",
                                   "Install the command-line client.",
                                   "## Install\n\nInstall the .deb package, then run the command "
                                   "driftbox login in a terminal.\n"),
}
