"""Small French HTML pages served by our own routes (payment redirection, sandbox bank, errors)."""

from __future__ import annotations

from html import escape

from lib.domain import accessibility as a11y
from lib.domain.fr import PRODUCT
from lib.payments.payfip_sandbox import Operation

_STYLE = """
* { box-sizing: border-box; }
body { margin: 0; font-family: "Source Sans Pro", "Segoe UI", Roboto, Arial, sans-serif; color: #1f2430;
       background: #f4f6fa; line-height: 1.5; font-size: 1.05rem; }
main { max-width: 30rem; margin: 2rem auto; padding: 1.5rem; background: #fff; border-radius: 12px;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }
@media (max-width: 480px) { main { margin: 0; border-radius: 0; min-height: 100vh; } }
h1 { font-size: 1.5rem; margin-top: 0; }
button, .button { display: block; width: 100%; margin-top: .8rem; font-size: 1.05rem; font-weight: 600;
       padding: .75rem; border: 0; border-radius: 8px; background: #1d4ed8; color: #fff; cursor: pointer;
       min-height: 48px; text-align: center; text-decoration: none; }
button.secondary { background: #fff; color: #1f2430; border: 2px solid #6b7280; }
button.danger { background: #b91c1c; }
button:focus, .button:focus, a:focus { outline: 3px solid #111; outline-offset: 2px; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .3rem 1rem; }
dt { font-weight: 600; }
.notice { border: 2px solid #b45309; background: #fffbeb; padding: .75rem; border-radius: 8px; }
.error { border: 2px solid #b91c1c; background: #fef2f2; color: #7f1d1d; padding: .75rem; border-radius: 8px; }
a { color: #1d4ed8; }
main.wide { max-width: 46rem; }
main.wide h2 { font-size: 1.25rem; margin-top: 1.6rem; }
main.wide h3 { font-size: 1.05rem; }
main.wide li { margin-bottom: .5rem; }
body > footer { text-align: center; margin: 1rem; font-size: .95rem; }
"""


def page(title: str, body: str, *, status: int = 200, wide: bool = False) -> tuple[str, int]:
    html = f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} – {PRODUCT}</title><style>{_STYLE}</style></head>
<body><main{' class="wide"' if wide else ""}>{body}</main>
<footer><a href="{a11y.STATEMENT_PATH}">{escape(a11y.footer_line())}</a></footer></body>
</html>"""
    return html, status


def message(
    title: str,
    text: str,
    *,
    status: int = 200,
    back: str = "/mes-factures",
    back_label: str = "Retour à « Mes factures »",
) -> tuple[str, int]:
    kind = "error" if status >= 400 else "notice"
    role = "alert" if status >= 400 else "status"
    return page(
        title,
        f'<h1>{escape(title)}</h1><p class="{kind}" role="{role}">{escape(text)}</p>'
        f'<a class="button" href="{escape(back)}">{escape(back_label)}</a>',
        status=status,
    )


def redirect_form(url: str, fields: list[dict], amount: str, number: str) -> tuple[str, int]:
    """The signed form to the provider, sent at once by the browser (a button without script)."""
    inputs = "".join(
        f'<input type="hidden" name="{escape(f["name"])}" value="{escape(str(f["value"]))}">' for f in fields
    )
    body = (
        f"<h1>Paiement sécurisé</h1><p>Facture {escape(number)} : <strong>{escape(amount)}</strong>.</p>"
        "<p>Vous allez être redirigé(e) vers la page de paiement de la banque.</p>"
        f'<form id="pay" method="post" action="{escape(url)}">{inputs}'
        '<button type="submit">Continuer vers la page de paiement</button></form>'
        "<script>document.getElementById('pay').submit();</script>"
    )
    return page("Redirection vers le paiement", body)


def sandbox_bank(request_id: str, merchant: str, amount: str, order: str, card: str) -> tuple[str, int]:
    body = f"""<h1>Banque de test</h1>
<p class="notice"><strong>Bac à sable :</strong> aucune carte n'est débitée. Cette page remplace celle de la
banque pour la démonstration et les tests.</p>
<dl><dt>Commerçant</dt><dd>{escape(merchant)}</dd><dt>Référence</dt><dd>{escape(order)}</dd>
<dt>Montant</dt><dd><strong>{escape(amount)}</strong></dd><dt>Carte de test</dt><dd>{escape(card)}</dd></dl>
<form method="post" action="/paiement/sandbox/decision">
<input type="hidden" name="request" value="{escape(request_id)}">
<button type="submit" name="decision" value="pay">Payer {escape(amount)}</button>
<button type="submit" name="decision" value="refuse" class="danger">Simuler un refus de la banque</button>
<button type="submit" name="decision" value="cancel" class="secondary">Annuler et revenir au portail</button>
<button type="submit" name="decision" value="pay-no-return" class="secondary">Payer, sans retour au portail (test)</button>
</form>"""
    return page("Banque de test", body)


def receipt_email(action: str, hidden: dict[str, str], why: str, value: str, *, status: int) -> tuple[str, int]:
    """The departure's question when the provider needs an e-mail for its receipt (PayFiP) and the
    family file has none: asked for this payment only, never kept in the family file."""
    inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items())
    kind, role = ("error", "alert") if status >= 400 else ("notice", "status")
    invalid = ' aria-invalid="true"' if status >= 400 else ""
    body = (
        "<h1>Votre reçu de paiement</h1>"
        f'<p class="{kind}" role="{role}" id="mel-aide">{escape(why)}</p>'
        f'<form method="post" action="{escape(action)}">{inputs}'
        '<label for="mel"><strong>Adresse e-mail pour le reçu de la banque</strong></label>'
        f'<input id="mel" name="mel" type="email" autocomplete="email" required maxlength="80" value="{escape(value)}"'
        f' aria-describedby="mel-aide"{invalid} style="display:block;width:100%;font-size:1.05rem;padding:.6rem;'
        'margin-top:.4rem;min-height:44px;border:2px solid #6b7280;border-radius:8px">'
        "<p>Elle est transmise à la banque pour ce paiement seulement : elle n'est pas enregistrée dans "
        "votre dossier famille.</p>"
        '<button type="submit">Continuer vers la page de paiement</button></form>'
        '<a class="button" href="/mes-factures" style="background:#fff;color:#1f2430;border:2px solid #6b7280">'
        "Annuler et revenir à « Mes factures »</a>"
    )
    return page("Votre reçu de paiement", body, status=status)


def payfip_page(operation: Operation, amount: str) -> tuple[str, int]:
    """The local PayFiP's payment page (lib/payments/payfip_sandbox.py): what the DGFiP shows the
    payer, with the references the public accountant matches."""
    body = f"""<h1>PayFiP (test)</h1>
<p class="notice"><strong>Bac à sable :</strong> aucune carte n'est débitée. Cette page remplace celle de la
DGFiP (PayFiP) pour la démonstration et les tests.</p>
<dl><dt>Référence</dt><dd>{escape(operation.refdet)}</dd><dt>Exercice</dt><dd>{escape(operation.exer)}</dd>
<dt>Montant</dt><dd><strong>{escape(amount)}</strong></dd><dt>Reçu envoyé à</dt><dd>{escape(operation.mel)}</dd></dl>
<form method="post" action="/paiement/payfip/decision">
<input type="hidden" name="idop" value="{escape(operation.idop)}">
<button type="submit" name="decision" value="pay">Payer {escape(amount)}</button>
<button type="submit" name="decision" value="refuse" class="danger">Refuser (simuler un refus de la banque)</button>
<button type="submit" name="decision" value="cancel" class="secondary">Annuler et revenir au portail</button>
</form>"""
    return page("PayFiP (test)", body)
