"""The town's payment provider, through eopayment (PayFiP, Systempay/PayZen, Paybox…).

`start` builds the signed form that sends the browser to the provider; `parse` verifies what
the provider sends back (the browser's return and its server-to-server notification alike) and
says what happened. Nothing here touches the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import eopayment

from lib.domain.invoicing import TxState

RETURN_PATH = "/paiement/retour"
NOTIFY_PATH = "/paiement/notification"

_RESULTS = {
    eopayment.PAID: TxState.PAID,
    eopayment.DENIED: TxState.REFUSED,
    eopayment.CANCELLED: TxState.CANCELLED,
    eopayment.ERROR: TxState.ERROR,
    eopayment.WAITING: TxState.PENDING,
}


class ProviderError(Exception):
    """What the provider (or someone pretending to be it) sent cannot be used."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# How long a provider may still complete an attempt after we issued its form: the validity of its
# payment page (the town sets `payment_attempt_minutes` from its contract; an hour when it does
# not), plus a margin for clocks and late notifications. Until then the attempt may still turn
# into money, so no second attempt starts for the same invoice and we do not give up on it.
DEFAULT_VALIDITY = timedelta(hours=1)
MARGIN = timedelta(minutes=30)


@dataclass(frozen=True)
class ProviderConfig:
    backend: str  # an eopayment backend name: "systempayv2", "payfip_ws", …
    options: dict = field(default_factory=dict)
    sandbox: bool = False  # our own test bank serves `service_url`
    validity: timedelta = DEFAULT_VALIDITY

    @classmethod
    def from_settings(cls, values: dict[str, str]) -> ProviderConfig:
        minutes = values.get("payment_attempt_minutes", "").strip()
        validity = timedelta(minutes=int(minutes)) if minutes.isdigit() and int(minutes) > 0 else DEFAULT_VALIDITY
        return cls(
            values.get("payment_backend", "systempayv2"),
            json.loads(values.get("payment_options") or "{}"),
            values.get("payment_sandbox") == "1",
            validity,
        )

    @property
    def attempt_lifetime(self) -> timedelta:
        """How long an attempt blocks its invoice and stays pending: surely past the provider's expiry."""
        return self.validity + MARGIN

    def eopayment(self, base_url: str) -> eopayment.Payment:
        base = base_url.rstrip("/")
        options = dict(self.options)
        options.setdefault("normal_return_url", base + RETURN_PATH)
        options.setdefault("automatic_return_url", base + NOTIFY_PATH)
        if str(options.get("service_url", "")).startswith("/"):
            options["service_url"] = base + options["service_url"]
        return eopayment.Payment(self.backend, options)


@dataclass(frozen=True)
class Started:
    transaction_ref: str
    url: str
    fields: list[dict]


@dataclass(frozen=True)
class Answer:
    transaction_ref: str
    state: TxState
    amount_cents: int | None
    order_id: str | None
    message: str
    data: dict


def start(config: ProviderConfig, base_url: str, amount_cents: int, order_id: str, email: str | None) -> Started:
    if amount_cents <= 0:
        raise ValueError("nothing to pay")
    payment = config.eopayment(base_url)
    ref, _kind, form = payment.request(Decimal(amount_cents) / 100, orderid=order_id, email=email or None)
    return Started(ref, form.url, [{"name": f["name"], "value": f["value"]} for f in form.fields])


def parse(config: ProviderConfig, query_string: str) -> Answer:
    """Verify and read an answer; raises ProviderError when it is unsigned, forged or malformed.
    An answer stands on its signature: the portal's own addresses play no part (hence none here)."""
    if not query_string or len(query_string) > 20_000:
        raise ProviderError("réponse vide ou trop longue")
    try:
        response = config.eopayment("").response(query_string)
    except Exception as exc:  # eopayment raises ResponseError, KeyError… on malformed input
        raise ProviderError(f"réponse illisible ({exc.__class__.__name__})") from None
    if not response.signed:
        raise ProviderError("signature invalide")
    data = dict(response.bank_data or {})
    # eopayment picks the secret from the answer's own mode field: an answer signed with the TEST
    # secret must not pass for a PRODUCTION payment, nor one for another merchant's site.
    for field_name, option in (("vads_ctx_mode", "ctx_mode"), ("vads_site_id", "site_id")):
        expected = config.options.get(option, "TEST" if option == "ctx_mode" else None)
        if field_name in data and expected is not None and str(data[field_name]) != str(expected):
            raise ProviderError(f"{field_name} inattendu")
    amount = data.get("vads_amount")
    try:
        amount_cents = int(amount) if amount is not None else None
    except ValueError:
        raise ProviderError("montant illisible") from None
    return Answer(
        response.transaction_id,
        _RESULTS.get(response.result, TxState.ERROR),
        amount_cents,
        data.get("vads_order_id"),
        response.bank_status or "",
        data,
    )
