"""The rejection catalogue: per code, the ledger's exact message, its cause and its fixes.

One source for the check's messages, the remedies shown next to a failed entry and the
generated `docs/rejections.md`, in the accountant's words, in English and French.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    en: str
    fr: str


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    order: int | None  # position in the sage-ge check (§5); None when not a check rule
    seed_error: str | None  # how the bank's help page numbers this case
    message: str  # the exact message, `{placeholders}` filled from the finding
    when: Text
    cause: Text
    remedies: tuple[Text, ...]


CATALOGUE: dict[str, Rejection] = {}


def _add(rejection: Rejection) -> None:
    CATALOGUE[rejection.code] = rejection


_add(
    Rejection(
        code="object_reference",
        order=1,
        seed_error="9",
        message="Object reference not set to an instance of an object.",
        when=Text(
            "the entry has no journal, no date or no lines; or a line has no account, or neither a debit nor a credit",
            "l'écriture n'a pas de journal, de date ou de lignes ; ou une ligne n'a pas de compte, ou ni débit ni crédit",
        ),
        cause=Text(
            "A value the ledger needs is missing from the entry: its journal, its date, its lines, a line's account or a line's amount.",
            "Une valeur dont le logiciel comptable a besoin manque dans l'écriture : son journal, sa date, ses lignes, le compte ou le montant d'une ligne.",
        ),
        remedies=(
            Text(
                "Edit the entry and fill in what the detail names (journal, date, account, debit or credit), then mark it verified: it is resent at the next synchronization.",
                "Modifiez l'écriture et complétez ce que le détail indique (journal, date, compte, débit ou crédit), puis marquez-la vérifiée : elle sera renvoyée à la prochaine synchronisation.",
            ),
            Text(
                "Or remove a line that carries no amount at all, then mark the entry verified.",
                "Ou supprimez une ligne qui ne porte aucun montant, puis marquez l'écriture vérifiée.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="value_truncated",
        order=2,
        seed_error="9",
        message="String or binary data would be truncated.",
        when=Text(
            "a label or the reference is longer than the folder's limits (69 and 13 characters by default)",
            "un libellé ou la référence dépasse les longueurs du dossier (69 et 13 caractères par défaut)",
        ),
        cause=Text(
            "A label or the piece reference is longer than the ledger's field allows for this folder.",
            "Un libellé ou la référence de pièce est plus long que le champ du logiciel comptable ne l'accepte pour ce dossier.",
        ),
        remedies=(
            Text(
                "Edit the entry and shorten the label or reference the detail names to the folder's limit, then mark it verified.",
                "Modifiez l'écriture et raccourcissez le libellé ou la référence indiqués jusqu'à la limite du dossier, puis marquez-la vérifiée.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="document_not_settled",
        order=3,
        seed_error="9",
        message="The document is not settled",
        when=Text(
            "the total debit differs from the total credit, or a line has both a debit and a credit",
            "le total des débits diffère du total des crédits, ou une ligne porte à la fois un débit et un crédit",
        ),
        cause=Text(
            "The entry does not balance: its debits and credits differ, or one line carries both a debit and a credit.",
            "L'écriture n'est pas équilibrée : ses débits et ses crédits diffèrent, ou une même ligne porte un débit et un crédit.",
        ),
        remedies=(
            Text(
                "Edit the entry so that the total debit equals the total credit (when the totals differ, the detail gives both totals and the difference), then mark it verified.",
                "Modifiez l'écriture pour que le total des débits égale celui des crédits (quand les totaux diffèrent, le détail donne les deux totaux et l'écart), puis marquez-la vérifiée.",
            ),
            Text(
                "Split a line that has both a debit and a credit into two lines (the detail names the line and both its amounts), then mark the entry verified.",
                "Scindez en deux lignes une ligne qui porte à la fois un débit et un crédit (le détail indique la ligne et ses deux montants), puis marquez l'écriture vérifiée.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="record_not_found",
        order=4,
        seed_error="9",
        message="Record not found",
        when=Text(
            "the journal, an account or an auxiliary account (third party) is unknown to the folder; or an auxiliary account belongs to another account than the line's",
            "le journal, un compte ou un compte auxiliaire (tiers) est inconnu du dossier ; ou un compte auxiliaire appartient à un autre compte que celui de la ligne",
        ),
        cause=Text(
            "The entry names a journal, an account or a third party's auxiliary account that does not exist in the ledger's folder, or an auxiliary account that belongs to another collective account.",
            "L'écriture cite un journal, un compte ou le compte auxiliaire d'un tiers qui n'existe pas dans le dossier, ou un compte auxiliaire rattaché à un autre compte collectif.",
        ),
        remedies=(
            Text(
                "Edit the entry to use a journal, account or auxiliary account that exists in the folder (for an auxiliary account under another account, put the line on the account its third party belongs to, which the detail names), then mark it verified.",
                "Modifiez l'écriture pour utiliser un journal, un compte ou un compte auxiliaire qui existe dans le dossier (pour un compte auxiliaire rattaché à un autre compte, passez la ligne sur le compte de son tiers, que le détail indique), puis marquez-la vérifiée.",
            ),
            Text(
                "Or create the missing journal, account or third party in the ledger, then mark the entry verified: it is resent as it is.",
                "Ou créez dans le logiciel comptable le journal, le compte ou le tiers manquant, puis marquez l'écriture vérifiée : elle est renvoyée telle quelle.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="fiscal_year_not_open",
        order=5,
        seed_error="6",
        message="The fiscal year ({year}) is not part of the last 2 open fiscal years",
        when=Text(
            "the date is in a closed fiscal year, in an open one that is not one of the two latest open ones, before every fiscal year, between two fiscal years, or the folder has no fiscal year",
            "la date tombe dans un exercice clos, dans un exercice ouvert qui n'est pas l'un des deux derniers ouverts, avant tout exercice, entre deux exercices, ou le dossier n'a aucun exercice",
        ),
        cause=Text(
            "The entry's date falls in a fiscal year that is not one of the two most recent open fiscal years of the ledger's folder.",
            "La date de l'écriture tombe dans un exercice qui n'est pas l'un des deux derniers exercices ouverts du dossier.",
        ),
        remedies=(
            Text(
                "Adjust the open fiscal years in the ledger (at most two consecutive fiscal years, one of them covering the posting date), then mark the entry verified.",
                "Ajustez les exercices ouverts dans le logiciel comptable (au plus deux exercices consécutifs, dont un couvrant la date de l'écriture), puis marquez l'écriture vérifiée.",
            ),
            Text(
                "Or edit the entry's posting date if it was mistyped.",
                "Ou modifiez la date de l'écriture si elle a été mal saisie.",
            ),
            Text(
                "Or exclude the entry if it is too old to be posted.",
                "Ou excluez l'écriture si elle est trop ancienne pour être comptabilisée.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="journal_locked",
        order=6,
        seed_error="1",
        message="The {kind} journal is locked or read-only",
        when=Text(
            "the journal is locked or read-only, or the date is after every fiscal year (its fiscal year is not opened)",
            "le journal est verrouillé ou en lecture seule, ou la date est postérieure à tout exercice (son exercice n'est pas ouvert)",
        ),
        cause=Text(
            "The ledger's journal is not open: it is locked or read-only, or the posting date falls in a fiscal year that is not opened yet.",
            "Le journal du logiciel comptable n'est pas ouvert : il est verrouillé ou en lecture seule, ou la date tombe dans un exercice pas encore ouvert.",
        ),
        remedies=(
            Text(
                "Open the journal in the ledger (or open the fiscal year covering the date), then mark the entry verified: it is resent at the next synchronization.",
                "Ouvrez le journal dans le logiciel comptable (ou ouvrez l'exercice qui couvre la date), puis marquez l'écriture vérifiée : elle sera renvoyée à la prochaine synchronisation.",
            ),
            Text(
                "Or edit the entry's date if it was mistyped.",
                "Ou modifiez la date de l'écriture si elle a été mal saisie.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="import_cursor_locked",
        order=7,
        seed_error="7",
        message="Import cursor locked",
        when=Text(
            "the date is in a period locked in the ledger's import cursor",
            "la date tombe dans une période verrouillée du curseur d'import",
        ),
        cause=Text(
            "The posting date falls in a period locked in the ledger's import settings.",
            "La date de l'écriture tombe dans une période verrouillée des paramètres d'import du logiciel comptable.",
        ),
        remedies=(
            Text(
                "In the ledger, go to Utilities > Import Cursor Settings > Lock tab and uncheck the locked period, then mark the entry verified.",
                "Dans le logiciel comptable, allez dans Utilitaires > Paramètres du curseur d'import > onglet Verrouillage et décochez la période, puis marquez l'écriture vérifiée.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="collective_account",
        order=8,
        seed_error="4",
        message="Account ({account}) or other is collective",
        when=Text(
            "a line on a collective account (401, 411, 421...) has no auxiliary account",
            "une ligne sur un compte collectif (401, 411, 421...) n'a pas de compte auxiliaire",
        ),
        cause=Text(
            "A collective account (401, 411, 421...) was used without the third party's auxiliary account.",
            "Un compte collectif (401, 411, 421...) a été utilisé sans le compte auxiliaire du tiers.",
        ),
        remedies=(
            Text(
                "Edit the entry and add the missing auxiliary account to the line, then mark it verified: the corrected entry is resent at the next synchronization.",
                "Modifiez l'écriture en ajoutant le compte auxiliaire manquant sur la ligne, puis marquez-la vérifiée : l'écriture corrigée sera renvoyée à la prochaine synchronisation.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="account_locked",
        order=9,
        seed_error="5",
        message="Account {account} is locked",
        when=Text(
            "a line uses an account locked in the ledger",
            "une ligne utilise un compte verrouillé dans le logiciel comptable",
        ),
        cause=Text(
            "The entry uses an account that is locked in the ledger, often after a mistyped account or posting date.",
            "L'écriture utilise un compte verrouillé dans le logiciel comptable, souvent après une erreur de compte ou de date.",
        ),
        remedies=(
            Text(
                "Unlock the account in the ledger, then mark the entry verified: it is resent as it is.",
                "Déverrouillez le compte dans le logiciel comptable, puis marquez l'écriture vérifiée : elle est renvoyée telle quelle.",
            ),
            Text(
                "Or edit the entry to use another, open account, then mark it verified.",
                "Ou modifiez l'écriture pour utiliser un autre compte, ouvert, puis marquez-la vérifiée.",
            ),
            Text(
                "Or exclude the entry if it is too old to be posted.",
                "Ou excluez l'écriture si elle est trop ancienne pour être comptabilisée.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="analytic_axis_missing",
        order=10,
        seed_error="2",
        message="The analytical axis does not exist. On-the-fly creation is not allowed",
        when=Text(
            "an allocation names an unknown axis or section, or a line on an account with analytics has no allocation on an axis",
            "une ventilation cite un axe ou une section inconnus, ou une ligne sur un compte analytique n'est pas ventilée sur un axe",
        ),
        cause=Text(
            "The ledger expects analytic allocations that the entry does not provide, or the entry names an analytic axis or section the folder does not have.",
            "Le logiciel comptable attend une ventilation analytique que l'écriture ne fournit pas, ou l'écriture cite un axe ou une section que le dossier n'a pas.",
        ),
        remedies=(
            Text(
                "When the line carries no analytic allocation at all: in the ledger, allow the import of entries without analytics, then mark the entry verified: it is resent at the next synchronization.",
                "Quand la ligne ne porte aucune ventilation analytique : dans le logiciel comptable, autorisez l'import d'écritures sans analytique, puis marquez l'écriture vérifiée : elle sera renvoyée à la prochaine synchronisation.",
            ),
            Text(
                "Or edit the entry to allocate the line on every axis of the folder, with sections that exist, then mark it verified.",
                "Ou modifiez l'écriture pour ventiler la ligne sur chaque axe du dossier, avec des sections existantes, puis marquez-la vérifiée.",
            ),
            Text(
                "Or create the missing axis or section in the ledger, then mark the entry verified.",
                "Ou créez l'axe ou la section manquants dans le logiciel comptable, puis marquez l'écriture vérifiée.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="analytic_allocation_incorrect",
        order=11,
        seed_error="3",
        message=(
            "At least one line has a failure status; the allocation of the line amount is incorrect"
            " on at least one of the analytical axes"
        ),
        when=Text(
            "a line's allocations on an axis do not add up to the line's amount",
            "les ventilations d'une ligne sur un axe ne totalisent pas le montant de la ligne",
        ),
        cause=Text(
            "On at least one analytic axis, the allocations of a line do not add up to the line's amount.",
            "Sur au moins un axe analytique, les ventilations d'une ligne ne totalisent pas le montant de la ligne.",
        ),
        remedies=(
            Text(
                "Edit the entry so that, on each axis, the allocations of the line add up exactly to its amount (the detail gives the sum and the amount), then mark it verified.",
                "Modifiez l'écriture pour que, sur chaque axe, les ventilations de la ligne totalisent exactement son montant (le détail donne la somme et le montant), puis marquez-la vérifiée.",
            ),
        ),
    )
)
_add(
    Rejection(
        code="idempotency_conflict",
        order=None,
        seed_error=None,
        message="Entry already posted as number {number} of fiscal year {fiscal_year} with other content",
        when=Text(
            "an entry is sent again, under the same idempotency key or with the id of an entry the folder has, with other content",
            "une écriture est renvoyée, sous la même clé d'idempotence ou avec l'identifiant d'une écriture du dossier, avec un autre contenu",
        ),
        cause=Text(
            "The ledger already posted an entry of this id in the folder (sent directly with `ledger post`, or from the workspace, whatever the revision) with other content. An id is posted once in a folder and a posted entry is never changed, so the new content is not posted.",
            "Le logiciel comptable a déjà comptabilisé une écriture de cet identifiant dans le dossier (envoyée directement par `ledger post`, ou depuis l'espace de travail, quelle que soit la révision) avec un autre contenu. Un identifiant n'est comptabilisé qu'une fois par dossier et une écriture comptabilisée n'est jamais modifiée : le nouveau contenu n'est donc pas comptabilisé.",
        ),
        remedies=(
            Text(
                "Leave the posted entry as it is. To correct it, post new entries under new ids: a reversing entry that cancels it, then the corrected entry.",
                "Laissez l'écriture comptabilisée telle quelle. Pour la corriger, passez de nouvelles écritures sous de nouveaux identifiants : une écriture d'extourne qui l'annule, puis l'écriture corrigée.",
            ),
            Text(
                "If the content was changed by mistake, send the entry again exactly as posted: the ledger answers its first result again (the same entry number, marked as a replay).",
                "Si le contenu a été modifié par erreur, renvoyez l'écriture exactement telle qu'elle a été comptabilisée : le logiciel comptable redonne sa première réponse (le même numéro d'écriture, signalée comme rejouée).",
            ),
        ),
    )
)

UNKNOWN_MESSAGE_REMEDY = Text(
    'Contact support with this exact message: "{message}"',
    "Contactez le support en indiquant ce message exact : « {message} »",
)


def render_message(code: str, params: Mapping[str, str]) -> str:
    """The exact message of a code, its placeholders filled."""
    template = CATALOGUE[code].message
    return template.format_map(params) if params else template


def check_rules() -> list[Rejection]:
    """The rules of the sage-ge check, in their order."""
    return sorted(
        (r for r in CATALOGUE.values() if r.order is not None), key=lambda r: r.order or 0
    )
