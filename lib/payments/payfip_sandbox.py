"""A local PayFiP, for the demo and the tests: the SOAP web service of the WSDL that eopayment ships
(`creerPaiementSecurise` gives a payment id, the idop; `recupererDetailPaiementSecurise` gives its
outcome, or the faults PayFiP answers while it has none), and the payment page's decisions (pay,
refuse, cancel). The routes (lib/web/payment_routes.py) serve them; eopayment's real zeep client
talks to them, so every test runs the SOAP exchange the portal has with the DGFiP.

Like PayFiP, an idop is only a pointer: the outcome is whatever this service answers when asked,
never what the browser or a notification claims.
"""

from __future__ import annotations

import re
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NS = (
    "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/"
    "PaiementSecuriseService"
)
FUNCTIONAL_FAULT = "fr.gouv.finances.cp.tpa.webservice.exceptions.FonctionnelleErreur"
PARIS = ZoneInfo("Europe/Paris")

DECISIONS = {"pay": "P", "refuse": "R", "cancel": "A"}
_REFDET = re.compile(r"^[A-Za-z0-9]{1,30}$")


class PayfipFault(Exception):
    """A PayFiP functional error (code and wording as PayFiP answers them in a SOAP fault)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass
class Operation:
    idop: str
    numcli: str
    exer: str
    refdet: str
    montant: str
    mel: str
    saisie: str
    objet: str
    urlnotif: str
    urlredirect: str
    result: str = ""  # P paid, R refused, A cancelled; "" while the payer has not decided
    numauto: str = ""
    decided_at: datetime | None = None

    def detail(self) -> dict[str, str]:
        when = self.decided_at or datetime.now(PARIS)
        return {
            "dattrans": when.strftime("%d%m%Y"),
            "exer": self.exer,
            "heurtrans": when.strftime("%H%M"),
            "idOp": self.idop,
            "mel": self.mel,
            "montant": self.montant,
            "numauto": self.numauto,
            "numcli": self.numcli,
            "objet": self.objet,
            "refdet": self.refdet,
            "resultrans": self.result,
            "saisie": self.saisie,
        }


class PayfipBank:
    """One per process: the idops it issued, by id."""

    def __init__(self) -> None:
        self._operations: dict[str, Operation] = {}
        self._lock = threading.Lock()

    def create(self, fields: dict[str, str], portal: str | None) -> str:
        """creerPaiementSecurise: check the request as PayFiP does; returns the new idop. `portal`:
        the portal's own address; the return addresses must be under it (anyone may call this
        service: it must not notify, nor send a browser, anywhere else)."""
        numcli, montant, mel = fields.get("numcli", ""), fields.get("montant", ""), fields.get("mel", "")
        if not (numcli.isdigit() and len(numcli) == 6):
            raise PayfipFault("R1", "numéro de client invalide")
        if fields.get("saisie") not in ("T", "X", "W"):
            raise PayfipFault("R2", "mode de saisie invalide")
        if not (fields.get("exer", "").isdigit() and len(fields["exer"]) == 4):
            raise PayfipFault("R3", "exercice invalide")
        if not _REFDET.match(fields.get("refdet", "")):
            raise PayfipFault("R4", "référence de la dette invalide")
        if not (montant.isdigit() and 100 <= int(montant) <= 10_000_000):
            raise PayfipFault("R5", "montant invalide")
        if "@" not in mel or not 6 <= len(mel) <= 80:
            raise PayfipFault("R6", "adresse électronique invalide")
        if not (_under(fields.get("urlnotif", ""), portal) and _under(fields.get("urlredirect", ""), portal)):
            raise PayfipFault("R7", "adresses de retour invalides")
        idop = secrets.token_hex(16)
        operation = Operation(
            idop,
            numcli=numcli,
            exer=fields["exer"],
            refdet=fields["refdet"],
            montant=montant,
            mel=mel,
            saisie=fields["saisie"],
            objet=fields.get("objet", ""),
            urlnotif=fields["urlnotif"],
            urlredirect=fields["urlredirect"],
        )
        with self._lock:
            self._operations[idop] = operation
        return idop

    def operation(self, idop: str) -> Operation | None:
        with self._lock:
            return self._operations.get(idop)

    def detail(self, idop: str) -> dict[str, str]:
        """recupererDetailPaiementSecurise: P1 for an unknown idop, P5 while the payer has not decided."""
        found = self.operation(idop)
        if found is None:
            raise PayfipFault("P1", "identifiant de paiement inconnu")
        if not found.result:
            raise PayfipFault("P5", "paiement en cours")
        return found.detail()

    def decide(self, idop: str, decision: str) -> Operation:
        """The payer's decision on the payment page; a decided idop cannot be decided again."""
        with self._lock:
            found = self._operations.get(idop)
            if found is None or found.result or decision not in DECISIONS:
                raise ValueError("paiement inconnu ou déjà traité")
            found.result = DECISIONS[decision]
            found.numauto = secrets.token_hex(3).upper() if decision == "pay" else ""
            found.decided_at = datetime.now(PARIS)
            return found


BANK = PayfipBank()


def _under(url: str, portal: str | None) -> bool:
    """Whether `url` is an address of the portal at `portal` (its scheme, host and port, below its path)."""
    return portal is not None and url.startswith(portal.rstrip("/") + "/")


# --- the SOAP envelope ------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_request(body: bytes) -> tuple[str, dict[str, str]]:
    """(operation, its arg0's fields) from a SOAP request; ValueError when it is not one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError("XML illisible") from exc
    envelope_body = next((child for child in root if _local(child.tag) == "Body"), None)
    if _local(root.tag) != "Envelope" or envelope_body is None or len(envelope_body) != 1:
        raise ValueError("enveloppe SOAP attendue")
    operation = envelope_body[0]
    arg = next((child for child in operation if _local(child.tag) == "arg0"), None)
    fields = {_local(child.tag): (child.text or "").strip() for child in arg} if arg is not None else {}
    return _local(operation.tag), fields


def _envelope(content: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="{SOAP_ENV}"><S:Body>{content}</S:Body></S:Envelope>'


def response(operation: str, values: dict[str, str]) -> str:
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in values.items())
    return _envelope(
        f'<ns2:{operation}Response xmlns:ns2="{SERVICE_NS}"><return>{inner}</return></ns2:{operation}Response>'
    )


def fault(exc: PayfipFault) -> str:
    return _envelope(
        f"<S:Fault><faultcode>S:Server</faultcode><faultstring>{FUNCTIONAL_FAULT}</faultstring><detail>"
        f'<ns2:FonctionnelleErreur xmlns:ns2="{SERVICE_NS}"><code>{escape(exc.code)}</code>'
        f"<descriptif>{escape(exc.message)}</descriptif><libelle>{escape(exc.message)}</libelle>"
        "<severite>2</severite></ns2:FonctionnelleErreur></detail></S:Fault>"
    )


def answer(body: bytes, portal: str | None) -> tuple[str, int]:
    """The SOAP answer to a request body, and its HTTP status (500 for a fault, as SOAP 1.1 says).
    `portal`: the portal's own address (see PayfipBank.create)."""
    try:
        operation, fields = read_request(body)
        if operation == "creerPaiementSecurise":
            return response(operation, {"idOp": BANK.create(fields, portal)}), 200
        if operation == "recupererDetailPaiementSecurise":
            return response(operation, BANK.detail(fields.get("idOp", ""))), 200
        raise PayfipFault("T1", f"opération non prise en charge : {operation}")
    except ValueError as exc:
        return fault(PayfipFault("T2", str(exc))), 500
    except PayfipFault as exc:
        return fault(exc), 500
