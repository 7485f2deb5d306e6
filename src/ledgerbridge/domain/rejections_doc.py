"""Renders `docs/rejections.md`, the accountant's rejection catalogue, from the catalogue."""

from __future__ import annotations

from string import Formatter

from ledgerbridge.domain.catalogue import (
    CATALOGUE,
    UNKNOWN_MESSAGE_REMEDY,
    Rejection,
    Text,
    check_rules,
    render_message,
)

REGENERATE_COMMAND = (
    'python -c "from ledgerbridge.domain.rejections_doc import render_rejections_markdown as r;'
    ' import sys; sys.stdout.write(r())" > docs/rejections.md'
)

# What each `{placeholder}` of a message stands for, and a value to show it filled in.
PLACEHOLDERS: dict[str, Text] = {
    "year": Text(
        "the code of the fiscal year the entry's date falls in; the date's calendar year when"
        " no fiscal year covers it (before every fiscal year, between two, or in a folder"
        " without any)",
        "le code de l'exercice où tombe la date de l'écriture ; l'année civile de la date quand"
        " aucun exercice ne la couvre (avant tout exercice, entre deux exercices, ou dossier"
        " sans exercice)",
    ),
    "kind": Text(
        "the journal's kind as the folder setup writes it (`purchase`, `sales`, `OD`, `bank`...);"
        " the journal's code when the journal is unknown",
        "la nature du journal telle que l'écrit le paramétrage du dossier (`purchase`, `sales`,"
        " `OD`, `bank`...) ; le code du journal quand il est inconnu",
    ),
    "account": Text(
        "the number of the account on the line at fault (with several such lines, the entry's"
        " message names the first one, and each finding names its own)",
        "le numéro du compte de la ligne en faute (si plusieurs lignes le sont, le message de"
        " l'écriture cite la première, et chaque constat cite la sienne)",
    ),
    "number": Text(
        "the entry number the ledger gave the entry when it first posted it",
        "le numéro d'écriture que le logiciel comptable a donné à l'écriture lors de sa"
        " première comptabilisation",
    ),
    "fiscal_year": Text(
        "the code of the fiscal year of that entry number (numbering starts again in each"
        " fiscal year)",
        "le code de l'exercice de ce numéro d'écriture (la numérotation reprend à chaque exercice)",
    ),
}
EXAMPLE_VALUES: dict[str, str] = {
    "year": "2024",
    "kind": "purchase",
    "account": "401000",
    "number": "42",
    "fiscal_year": "2024",
}

_TITLE = "# Rejections: codes, messages and fixes"

_INTRO = (
    "A **rejection** is the ledger's answer when an entry fails its consistency check (the"
    " sage-ge profile): that entry is not posted, the ledger keeps nothing of it, and the other"
    " entries of the batch go on. Each rejection carries a `code` and a `message`. The"
    " `code` is stable: it does not change from one version to the next nor with the language,"
    " so filters, scripts and the `entries verify --code CODE` command can rely on it. The"
    " `message` is the ledger's exact text, in English, word for word as Sage GE writes it:"
    " quote it as it is when you talk to support. An entry with several problems lists them"
    " all as findings, each with a `detail` that names the line, the account or the period"
    " at fault, so one correction fixes them all; its `code` and `message` are those of the"
    " first problem in the order below. In the workspace, the entry shows *Synchronization"
    " failed* with this message; once it is fixed (in the entry, or in the ledger's"
    " settings), mark it verified again: it is resent at the next Synchronize, or the"
    " following night when sending is automatic."
)

_TABLE_NOTE = (
    "*Order* is the rule's place in the check. *Help page error* is the number the bank's"
    " help page on Sage GE rejections gives the same case. Error 8 of that page, entries that"
    " stay *Synchronizing*, is not a rejection: see"
    " [Entries stuck synchronizing](#entries-stuck-synchronizing)."
)

_NOT_A_RULE = Text(
    "Not a rule of the check: the ledger answers it when posting (never `ledger check`), and"
    " the entry is not posted again.",
    "Ce n'est pas une règle du contrôle : le logiciel comptable la renvoie à la"
    " comptabilisation (jamais `ledger check`), et l'écriture n'est pas comptabilisée une"
    " seconde fois.",
)

_UNKNOWN_SECTION_EN = (
    "A ledger reached through another connector may reject an entry with a message this"
    " catalogue does not know. ledgerbridge then shows that message unchanged, and one"
    " corrective action, where `{message}` is the ledger's message, quoted exactly:"
)
_UNKNOWN_SECTION_EN_AFTER = (
    "The messages of the codes above are not in this case: each has its own cause and fixes,"
    " including the four the help page sends to support (codes 1 to 4)."
)
_UNKNOWN_SECTION_FR = (
    "Un logiciel comptable atteint par un autre connecteur peut rejeter une écriture avec un"
    " message que ce catalogue ne connaît pas. ledgerbridge affiche alors ce message tel quel,"
    " avec une seule action corrective, où `{message}` est le message du logiciel comptable,"
    " cité exactement :"
)
_UNKNOWN_SECTION_FR_AFTER = (
    "Les messages des codes ci-dessus ne relèvent pas de ce cas : chacun a sa cause et ses"
    " corrections, y compris les quatre que la page d'aide renvoie au support (codes 1 à 4)."
)

_CREDENTIAL_EXPIRED = (
    "For security reasons, the GE Connector security certificate has expired."
    " It is necessary for the reference administrator to identify again."
)

_STUCK_SECTION = f"""\
## Entries stuck synchronizing

Help page error 8. This is not a rejection and has no code: nothing is wrong with the entries themselves. Synchronize deposited them in the relay as one batch, and they stay *Synchronizing* until the ledger injects that batch, which it does when the folder's accounting is opened:

```sh
ledgerbridge ledger open FOLDER
```

When the command returns, each entry it injected already shows *Synchronized* (with its entry number) or *Synchronization failed* (with its code and message); no further Synchronize is needed.

Two things keep a batch waiting, however often the accounting is opened:

- **The folder's connector is inactive.** The opening succeeds but injects nothing, and says how many batches wait and why. Activate the connector, accepting its interactions, then open the accounting again: `ledgerbridge ledger marketplace FOLDER --activate --accept`.
- **The reference administrator's credential has expired.** Every opening then refuses (exit code 1) with the ledger's message "{_CREDENTIAL_EXPIRED}" and injects nothing. The reference administrator authenticates again (`ledgerbridge ledger admin-auth`), then open the accounting again.

A waiting batch is never lost, even when the connector is deactivated and reactivated, and sending again is always safe: an entry is never posted twice. To see at once why a client's entries wait (API, connector, credential, fiscal period, waiting batches), each with its fix:

```sh
ledgerbridge doctor FOLDER
```

### En français

Erreur 8 de la page d'aide. Ce n'est pas un rejet et elle n'a pas de code : les écritures elles-mêmes sont correctes. La synchronisation les a déposées dans le relais en un lot, et elles restent *en cours de synchronisation* jusqu'à ce que le logiciel comptable injecte ce lot, ce qu'il fait à l'ouverture de la comptabilité du dossier : `ledgerbridge ledger open FOLDER`. Au retour de la commande, chaque écriture injectée est déjà *synchronisée* (avec son numéro d'écriture) ou *en échec de synchronisation* (avec son code et son message).

Deux causes laissent le lot en attente, quel que soit le nombre d'ouvertures :

- **Le connecteur du dossier est inactif.** L'ouverture réussit mais n'injecte rien, et dit combien de lots attendent et pourquoi. Activez le connecteur en acceptant ses interactions (`ledgerbridge ledger marketplace FOLDER --activate --accept`), puis rouvrez la comptabilité.
- **L'authentification de l'administrateur de référence a expiré.** Chaque ouverture est alors refusée (code de sortie 1) avec le message du logiciel comptable cité plus haut, et n'injecte rien. L'administrateur de référence s'authentifie de nouveau (`ledgerbridge ledger admin-auth`), puis rouvrez la comptabilité.

Un lot en attente n'est jamais perdu, même si le connecteur est désactivé puis réactivé, et renvoyer est toujours sans risque : une écriture n'est jamais comptabilisée deux fois. Pour voir d'un coup pourquoi les écritures d'un client attendent (API, connecteur, authentification, période d'exercice, lots en attente), chaque point avec sa correction : `ledgerbridge doctor FOLDER`.
"""


def _placeholders(message: str) -> list[str]:
    """The `{names}` of a message, in the order they appear, each once."""
    names: list[str] = []
    for _, name, _, _ in Formatter().parse(message):
        if name and name not in names:
            names.append(name)
    return names


def _cell(text: str) -> str:
    """Text fit for a table cell: a `|` would end the cell."""
    return text.replace("|", "\\|")


def _order(rejection: Rejection) -> str:
    return str(rejection.order) if rejection.order is not None else "—"


def _seed_error(rejection: Rejection) -> str:
    return rejection.seed_error if rejection.seed_error is not None else "—"


def _in_document_order() -> list[Rejection]:
    """The check's rules in their order, then the codes that are not check rules."""
    rules = check_rules()
    others = [rejection for rejection in CATALOGUE.values() if rejection.order is None]
    return rules + others


def _summary_table(rejections: list[Rejection]) -> list[str]:
    rows = [
        "| Order | Code | Exact message | Help page error |",
        "| ---: | --- | --- | :---: |",
    ]
    for rejection in rejections:
        rows.append(
            f"| {_order(rejection)} | [`{rejection.code}`](#{rejection.code})"
            f" | `{_cell(rejection.message)}` | {_seed_error(rejection)} |"
        )
    return rows


def _remedy_list(remedies: tuple[Text, ...], language: str) -> list[str]:
    return [f"{number}. {getattr(remedy, language)}" for number, remedy in enumerate(remedies, 1)]


def _placeholder_list(message: str, language: str) -> list[str]:
    separator = ":" if language == "en" else " :"
    return [
        f"- `{{{name}}}`{separator} {getattr(PLACEHOLDERS[name], language)}"
        for name in _placeholders(message)
    ]


def _where(rejection: Rejection) -> Text:
    """The line under a code's heading: its place in the check and on the help page."""
    if rejection.order is None:
        return _NOT_A_RULE
    seed = (
        (
            f"; help page error {rejection.seed_error}",
            f" ; erreur {rejection.seed_error} de la page d'aide",
        )
        if rejection.seed_error is not None
        else ("", "")
    )
    return Text(
        f"Rule {rejection.order} of the check{seed[0]}.",
        f"Règle {rejection.order} du contrôle{seed[1]}.",
    )


def _section(rejection: Rejection) -> list[str]:
    names = _placeholders(rejection.message)
    example = render_message(rejection.code, {name: EXAMPLE_VALUES[name] for name in names})
    where = _where(rejection)
    lines = [
        f"## `{rejection.code}`",
        "",
        where.en,
        "",
        f"Exact message: `{rejection.message}`",
    ]
    if names:
        lines += ["", "The ledger fills in the part in braces:", ""]
        lines += [*_placeholder_list(rejection.message, "en"), "", f"For example: `{example}`"]
    lines += [
        "",
        f"**When it happens:** {rejection.when.en}.",
        "",
        f"**Cause:** {rejection.cause.en}",
        "",
        "**Corrective actions:**",
        "",
        *_remedy_list(rejection.remedies, "en"),
        "",
        "### En français",
        "",
        where.fr,
        "",
        f"Message exact (le texte du logiciel comptable, en anglais) : `{rejection.message}`",
    ]
    if names:
        lines += ["", "Le logiciel comptable remplit la partie entre accolades :", ""]
        lines += [*_placeholder_list(rejection.message, "fr"), "", f"Par exemple : `{example}`"]
    lines += [
        "",
        f"**Quand :** {rejection.when.fr}.",
        "",
        f"**Cause :** {rejection.cause.fr}",
        "",
        "**Actions correctives :**",
        "",
        *_remedy_list(rejection.remedies, "fr"),
    ]
    return lines


def _unknown_messages_section() -> list[str]:
    return [
        "## Messages the product does not know",
        "",
        _UNKNOWN_SECTION_EN,
        "",
        f"> {UNKNOWN_MESSAGE_REMEDY.en}",
        "",
        _UNKNOWN_SECTION_EN_AFTER,
        "",
        "### En français",
        "",
        _UNKNOWN_SECTION_FR,
        "",
        f"> {UNKNOWN_MESSAGE_REMEDY.fr}",
        "",
        _UNKNOWN_SECTION_FR_AFTER,
    ]


def render_rejections_markdown() -> str:
    """The whole of `docs/rejections.md`; the same text on every call, ending in one newline."""
    rejections = _in_document_order()
    lines = [
        "<!--",
        "Generated from src/ledgerbridge/domain/catalogue.py: do not edit by hand.",
        "Regenerate it from the repository's root with:",
        REGENERATE_COMMAND,
        "-->",
        "",
        _TITLE,
        "",
        _INTRO,
        "",
        *_summary_table(rejections),
        "",
        _TABLE_NOTE,
    ]
    for rejection in rejections:
        lines += ["", *_section(rejection)]
    lines += ["", *_unknown_messages_section()]
    lines += ["", _STUCK_SECTION.rstrip("\n")]
    return "\n".join(lines) + "\n"
