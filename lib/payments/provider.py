"""The town's payment provider, through eopayment (PayFiP, TIPI, Systempay/PayZen, Paybox…).

`start` asks eopayment for the payment request and keeps what the departure needs (a redirect
address, a form to post, or a page); `parse` reads what the provider sends back (the browser's
return and its server-to-server notification alike) through eopayment's normalised `Response`,
checks that it is genuine — signed, or, where the backend signs nothing, confirmed by the
provider's own status service — and says what happened. Nothing here touches the database.

Each backend names the same facts differently; `PROTOCOLS` says, once per backend, where its answer
carries the amount and the payment reference, which field must match the town's mode (test or
production) and merchant, and how an answer is confirmed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import eopayment
import zeep
from eopayment import payfip_ws

from lib.domain.invoicing import TxState

RETURN_PATH = "/paiement/retour"
NOTIFY_PATH = "/paiement/notification"

# How long the portal waits for a provider's web service (PayFiP's SOAP): a departure or a
# notification never hangs on it longer.
SERVICE_TIMEOUT_S = 10

_RESULTS = {
    eopayment.PAID: TxState.PAID,
    eopayment.DENIED: TxState.REFUSED,
    eopayment.CANCELLED: TxState.CANCELLED,
    eopayment.ERROR: TxState.ERROR,
    eopayment.WAITING: TxState.PENDING,
    eopayment.EXPIRED: TxState.EXPIRED,
}


class ProviderError(Exception):
    """What the provider (or someone pretending to be it) sent cannot be used; `status`: the HTTP
    status for the sender (503 when the provider's own service could not be asked: try again)."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason, self.status = reason, status


# How long a provider may still complete an attempt after we issued its form: the validity of its
# payment page (the town sets `payment_attempt_minutes` from its contract; an hour when it does
# not), plus a margin for clocks and late notifications. Until then the attempt may still turn
# into money, so no second attempt starts for the same invoice and we do not give up on it.
DEFAULT_VALIDITY = timedelta(hours=1)
MARGIN = timedelta(minutes=30)


class Confirmation(StrEnum):
    SIGNATURE = "signature"  # eopayment checks the answer's signature (Systempay, PayZen, Paybox)
    STATUS = "status"  # the answer only names the payment: eopayment asks the provider (PayFiP's SOAP)
    ADDRESS = "address"  # unsigned, no status service (TIPI): only the provider's servers' notification counts


@dataclass(frozen=True)
class Protocol:
    """Where one backend's answer says what `Answer` needs (fields of eopayment's `bank_data`)."""

    amount: str  # the amount, in cents
    reference: str | None  # the payment reference (REFDET / order id) we sent
    ref_from: str  # which of eopayment's Response ids is the reference `request` returned
    confirmation: Confirmation
    # (answer field, option, default): the answer must carry the town's value (TEST vs PRODUCTION,
    # its own merchant): eopayment checks a signature with the secret the answer's own mode names.
    same_as_options: tuple[tuple[str, str, str | None], ...] = ()
    year: str | None = None  # PayFiP's EXER
    answers_by_reference: bool = False  # the answer names only the payment reference (one per invoice)
    extra_request: tuple[str, ...] = ()  # request() arguments beyond amount, orderid and email
    # `service_url` is a web service the portal itself calls (PayFiP's SOAP), not a page for the browser.
    service_called_by_us: bool = False


_SYSTEMPAY = Protocol(
    "vads_amount",
    "vads_order_id",
    "transaction_id",
    Confirmation.SIGNATURE,
    (("vads_ctx_mode", "ctx_mode", "TEST"), ("vads_site_id", "site_id", None)),
)

PROTOCOLS: dict[str, Protocol] = {
    "systempayv2": _SYSTEMPAY,
    "payzen": _SYSTEMPAY,
    "paybox": Protocol("montant", None, "order_id", Confirmation.SIGNATURE),
    "payfip_ws": Protocol(
        "montant",
        "refdet",
        "order_id",
        Confirmation.STATUS,
        (("saisie", "saisie", "T"), ("numcli", "numcli", None)),
        year="exer",
        extra_request=("refdet", "exer"),
        service_called_by_us=True,
    ),
    "tipi": Protocol(
        "montant",
        "refdet",
        "transaction_id",
        Confirmation.ADDRESS,
        (("saisie", "saisie", "T"), ("numcli", "numcli", None)),
        year="exer",
        answers_by_reference=True,
        extra_request=("refdet", "exer"),
    ),
}


# Backends whose answers alone cannot show that the town's own merchant was paid, refused in
# production with the reason. Paybox signs the answers of every merchant with one key and its
# answer names no site or rank: a payment made to another merchant (or to Paybox's public test
# merchant) with our reference and amount would be signed just the same; eopayment offers no call
# to Paybox's PPPS to confirm it.
NOT_FOR_PRODUCTION = {
    "paybox": "Paybox : la confirmation des paiements auprès de Paybox (PPPS) n'est pas disponible ; "
    "utilisez PayFiP ou Systempay"
}

# The authorisation Paybox's pre-production gives every payment: no card was charged.
PAYBOX_TEST_AUTHORISATION = "XXXXXX"


def protocol(backend: str) -> Protocol:
    found = PROTOCOLS.get(backend)
    if found is None:
        raise ProviderError(f"moyen de paiement non pris en charge : {backend}")
    return found


class _ZeepAt(zeep.Client):
    """eopayment's PayFiP client, whose SOAP calls go to `address` (the town's `service_url`: our
    sandbox, or PayFiP's test platform) instead of the address written in the WSDL it ships."""

    BINDING = (
        "{http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/"
        "PaiementSecuriseService}PaiementSecuriseServicePortBinding"
    )

    def __init__(self, wsdl: str, address: str):
        super().__init__(wsdl)
        self._address = address

    @property
    def service(self):
        return self.create_service(self.BINDING, self._address)


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

    @property
    def email_required(self) -> bool:
        """Whether the provider needs the payer's e-mail (PayFiP's MEL, Paybox's PBX_PORTEUR…)."""
        return bool(getattr(eopayment.get_backend(self.backend), "email_is_required", False))

    def absolute(self, base_url: str, option: str) -> str | None:
        """An address option, made absolute with the portal's address when it is a path."""
        value = str(self.options.get(option, "") or "")
        if not value:
            return None
        return base_url.rstrip("/") + value if value.startswith("/") else value

    def eopayment(self, base_url: str, service_base: str | None = None) -> eopayment.Payment:
        """eopayment for this town: the return addresses at `base_url` (the portal's public
        address); a relative `service_url` at `service_base` when the portal itself calls it (its
        own address as the process reaches itself, not through the public proxy), else at `base_url`."""
        base = base_url.rstrip("/")
        options = dict(self.options)
        options.setdefault("normal_return_url", base + RETURN_PATH)
        options.setdefault("automatic_return_url", base + NOTIFY_PATH)
        called_by_us = self.backend in PROTOCOLS and PROTOCOLS[self.backend].service_called_by_us
        service_url = self.absolute(service_base if called_by_us and service_base else base_url, "service_url")
        if service_url:
            options["service_url"] = service_url
        payment = eopayment.Payment(self.backend, options)
        if self.backend == "payfip_ws":
            client = payment.backend.payfip
            client.default_timeout = SERVICE_TIMEOUT_S
            if service_url:
                client._client = _ZeepAt(payfip_ws.PayFiP().wsdl_url, service_url)
        return payment


@dataclass(frozen=True)
class Started:
    """What the departure needs: a redirect (`url`), a form to post (`url` + `fields`), or a page."""

    transaction_ref: str
    kind: str  # "url", "form" or "html"
    url: str = ""
    fields: list[dict] = field(default_factory=list)
    html: str = ""

    def stored(self) -> str:
        return json.dumps({"kind": self.kind, "url": self.url, "fields": self.fields, "html": self.html})

    @classmethod
    def from_stored(cls, transaction_ref: str, text: str) -> Started:
        stored = json.loads(text)
        kind = stored.get("kind", "form")  # attempts stored before the kinds: Systempay's form
        return cls(transaction_ref, kind, stored.get("url", ""), stored.get("fields", []), stored.get("html", ""))


# eopayment's codes for a PayFiP web service that did not answer (as opposed to PayFiP's own refusals).
_UNREACHABLE = frozenset({"HTTP error", "SOAP error", "Unexpected error"})

_KINDS = {eopayment.URL: "url", eopayment.FORM: "form", eopayment.HTML: "html"}


def start(
    config: ProviderConfig,
    base_url: str,
    amount_cents: int,
    payment_ref: str,
    year: int,
    email: str | None,
    service_base: str | None = None,
) -> Started:
    """Ask the provider for a payment of `amount_cents`, under the invoice's payment reference
    (lib.domain.invoicing.payment_reference) and year (PayFiP's REFDET and EXER). `base_url`: the
    portal's public address; `service_base`: see ProviderConfig.eopayment."""
    if amount_cents <= 0:
        raise ValueError("nothing to pay")
    proto = protocol(config.backend)
    payment = config.eopayment(base_url, service_base)
    kwargs: dict[str, Any] = {"email": email or None}
    if "refdet" in proto.extra_request:
        kwargs.update(refdet=payment_ref, exer=str(year))
    else:
        kwargs["orderid"] = payment_ref
    if config.backend == "payfip_ws":
        kwargs["timeout"] = SERVICE_TIMEOUT_S
    ref, kind, data = payment.request(Decimal(amount_cents) / 100, **kwargs)
    if proto.answers_by_reference:
        ref = f"{ref}.{secrets.token_hex(4)}"  # several attempts may carry one invoice's REFDET
    if kind == eopayment.FORM:
        fields = [{"name": f["name"], "value": f["value"]} for f in data.fields]
        return Started(ref, "form", _page_url(config, base_url, data.url), fields)
    if kind == eopayment.URL:
        return Started(ref, "url", _page_url(config, base_url, data))
    return Started(ref, _KINDS.get(kind, "html"), html=str(data))


def _page_url(config: ProviderConfig, base_url: str, url: str) -> str:
    """The provider's payment page; `payment_url` (an option of ours, e.g. the sandbox's page) takes
    the place of the address eopayment writes in (PayFiP's is fixed there), keeping its query."""
    page = config.absolute(base_url, "payment_url")
    if not page:
        return url
    target = urlsplit(page)
    return urlunsplit((target.scheme, target.netloc, target.path, urlsplit(url).query, ""))


@dataclass(frozen=True)
class Answer:
    transaction_ref: str | None  # None when the answer names only the payment reference
    state: TxState
    amount_cents: int | None  # None only for a status without detail (PayFiP: still waiting, expired)
    payment_ref: str | None
    year: str | None
    message: str
    data: dict


def _flat(data: dict) -> dict:
    """eopayment's bank_data, one value per field (Paybox and TIPI keep parse_qs's lists)."""
    flat = {}
    for key, value in data.items():
        if isinstance(value, list):
            value = value[0] if value else ""
        flat[str(key)] = value if value is None or isinstance(value, str | int) else str(value)
    return flat


def parse(config: ProviderConfig, service_base: str | None, query_string: str, *, source: str, address: str) -> Answer:
    """Verify and read an answer; raises ProviderError when it is unsigned, forged, unconfirmed or
    malformed. `service_base`: the portal's address (a relative `service_url` hangs on it); `source`:
    "retour", "notification" or "reconciliation"; `address`: the peer's. An unsigned answer without
    a status service (TIPI's) stands only as a notification from one of the provider's servers,
    listed in the town's `notify_addresses` option."""
    if not query_string or len(query_string) > 20_000:
        raise ProviderError("réponse vide ou trop longue")
    proto = protocol(config.backend)
    trusted = {str(a) for a in config.options.get("notify_addresses", [])}
    if proto.confirmation is Confirmation.ADDRESS and (source != "notification" or address not in trusted):
        raise ProviderError("réponse non signée : seule la notification des serveurs du fournisseur est reçue")
    if proto.confirmation is Confirmation.STATUS and set(parse_qs(query_string, keep_blank_values=True)) != {"idop"}:
        raise ProviderError("réponse attendue : un identifiant de paiement (idop) seul")
    relative_service = str(config.options.get("service_url", "")).startswith("/")
    if proto.confirmation is Confirmation.STATUS and service_base is None and relative_service:
        raise ProviderError("adresse du portail inconnue : le service du fournisseur ne peut pas être interrogé")
    try:
        response = config.eopayment(service_base or "", service_base).response(query_string)
    except payfip_ws.PayFiPError as exc:
        if exc.code in _UNREACHABLE:
            raise ProviderError(f"service du fournisseur injoignable ({exc.code})", status=503) from None
        raise ProviderError(f"le fournisseur ne confirme pas ce paiement ({exc.code})") from None
    except Exception as exc:  # eopayment raises ResponseError, KeyError… on malformed input
        raise ProviderError(f"réponse illisible ({exc.__class__.__name__})") from None
    if proto.confirmation is Confirmation.SIGNATURE and not response.signed:
        raise ProviderError("signature invalide")
    data = _flat(dict(response.bank_data or {}))
    if config.backend == "paybox" and _paybox_test_payment(config, data):
        raise ProviderError("paiement de test de Paybox, alors que la ville n'est pas sur sa pré-production")
    ref = getattr(response, proto.ref_from) or None
    state = _RESULTS.get(response.result, TxState.ERROR)
    if proto.confirmation is Confirmation.STATUS and not data and state in (TxState.PENDING, TxState.EXPIRED):
        return Answer(ref, state, None, None, None, response.bank_status or "", {})
    for field_name, option, default in proto.same_as_options:
        expected = config.options.get(option, default)
        if expected is not None and str(data.get(field_name)) != str(expected):
            raise ProviderError(f"{field_name} inattendu")
    amount = str(data.get(proto.amount, "") or "")
    if not amount.isdigit():
        raise ProviderError("montant absent ou illisible")
    return Answer(
        None if proto.answers_by_reference else ref,
        state,
        int(amount),
        str(data[proto.reference]) if proto.reference and data.get(proto.reference) else None,
        str(data[proto.year]) if proto.year and data.get(proto.year) else None,
        response.bank_status or "",
        data,
    )


def _paybox_test_payment(config: ProviderConfig, data: dict) -> bool:
    """A Paybox answer from its pre-production (no card charged) for a town whose options do not say
    it is on the pre-production (eopayment's `platform`, "test" unless set)."""
    on_preproduction = str(config.options.get("platform", "test")) == "test"
    return data.get("code_autorisation") == PAYBOX_TEST_AUTHORISATION and not on_preproduction


def attempt_named(config: ProviderConfig, query_string: str) -> str | None:
    """For a backend whose answer only names the attempt (PayFiP's idop): that name, read before the
    provider is asked anything, so that an unknown one costs no call; None for the other backends."""
    if protocol(config.backend).confirmation is not Confirmation.STATUS:
        return None
    values = parse_qs(query_string, keep_blank_values=True)
    if set(values) != {"idop"} or len(values["idop"]) != 1:
        raise ProviderError("réponse attendue : un identifiant de paiement (idop) seul")
    return values["idop"][0]


def status_query(config: ProviderConfig, transaction_ref: str) -> str | None:
    """An answer to ask the provider for, by its status service, for an attempt whose answer never
    came: PayFiP's idop (its status call is what `parse` does). None where no such service exists."""
    if protocol(config.backend).confirmation is Confirmation.STATUS:
        return f"idop={transaction_ref}"
    return None
