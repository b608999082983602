"""What the payment contract tests share: our payment routes served for real (uvicorn on a free port,
in a thread of the test process, on the test's database), so that eopayment's own zeep client talks
SOAP to the local PayFiP; and, per eopayment backend, the town's settings and the genuine answers
its provider gives (signed the provider's way), from which the tests forge the bad ones."""

from __future__ import annotations

import base64
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qsl, quote, urlencode

import uvicorn
from starlette.applications import Starlette

from lib.payments import payfip_sandbox
from lib.payments.sandbox import BANK
from lib.services import payments
from lib.tools.processes import free_port
from lib.web import payment_routes

PROVIDER = "192.0.2.10"  # the provider's servers (TIPI's notifications are believed from there only)
ELSEWHERE = "198.51.100.7"


@contextmanager
def served_payment_routes():
    """Our payment routes on http://127.0.0.1:<port>; yields the port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=payment_routes.ROUTES), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def use_provider(db, backend: str, options: dict, sandbox: bool = True) -> None:
    values = {
        "payment_backend": backend,
        "payment_options": json.dumps(options),
        "payment_sandbox": "1" if sandbox else "0",
    }
    db.write(
        lambda cur: [cur.execute("UPDATE settings SET value = ? WHERE key = ?", [v, k]) for k, v in values.items()]
    )


def creer(urlnotif: str, urlredirect: str) -> bytes:
    """An anonymous creerPaiementSecurise, as anyone may post it to the sandbox."""
    fields = {
        "exer": "2026",
        "mel": "payeur@exemple.fr",
        "montant": "4250",
        "numcli": "123456",
        "objet": "essai",
        "refdet": "F2026000001",
        "saisie": "T",
        "urlnotif": urlnotif,
        "urlredirect": urlredirect,
    }
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return (
        f'<S:Envelope xmlns:S="{payfip_sandbox.SOAP_ENV}"><S:Body><ns2:creerPaiementSecurise '
        f'xmlns:ns2="{payfip_sandbox.SERVICE_NS}"><arg0>{inner}</arg0></ns2:creerPaiementSecurise></S:Body></S:Envelope>'
    ).encode()


def fields(query: str) -> dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=True))


@dataclass
class Said:
    """An answer as it reaches record_answer: its query, the route it came by, and from where."""

    query: str
    source: str = "notification"
    address: str = PROVIDER


class Backend:
    """One eopayment backend as a town configures it, and its provider's answers."""

    name: str
    options: dict

    def configure(self, db, port: int) -> None:
        use_provider(db, self.name, self.options)

    def answer(self, db, started, decision: str = "pay") -> Said:
        raise NotImplementedError

    def with_amount(self, db, said: Said, cents: int) -> Said:
        """The same genuine answer, but for another amount (what a provider never says for our attempt)."""
        raise NotImplementedError

    def forged(self, db, said: Said) -> dict[str, Said]:
        """Answers that are not the provider's: each must be refused as unsigned or unconfirmed."""
        raise NotImplementedError


class Systempay(Backend):
    name = "systempayv2"

    def __init__(self, name: str = "systempayv2"):
        self.name = name
        self.options = {
            "site_id": "12345678",
            "secret_test": "contract-test-secret",
            "secret_production": "contract-production-secret",
            "signature_algo": "hmac_sha256",
            "ctx_mode": "TEST",
            "vads_return_mode": "GET",
            "service_url": "/paiement/sandbox",
        }

    def answer(self, db, started, decision="pay"):
        cfg = payments.config(db)
        request_id = BANK.receive(cfg, {f["name"]: f["value"] for f in started.fields})
        return Said(BANK.decide(cfg, request_id, decision)[1])

    def _resign(self, db, query: str, **changes) -> str:
        values = dict(fields(query), **changes)
        values["signature"] = BANK._signer(payments.config(db)).signature(values)
        return urlencode(values)

    def with_amount(self, db, said, cents):
        return Said(self._resign(db, said.query, vads_amount=str(cents)))

    def forged(self, db, said):
        values = fields(said.query)
        return {
            "bad signature": Said(urlencode(dict(values, signature="AAAA"))),
            "tampered amount, old signature": Said(urlencode(dict(values, vads_amount="1"))),
            "unsigned": Said(urlencode({k: v for k, v in values.items() if k != "signature"})),
            "signed for PRODUCTION while the town is in TEST": Said(
                self._resign(db, said.query, vads_ctx_mode="PRODUCTION")
            ),
            "another merchant's site": Said(self._resign(db, said.query, vads_site_id="87654321")),
        }


class Paybox(Backend):
    """Paybox signs its answers with its own RSA key (SHA1withRSA), whose public half eopayment
    ships: nobody but Paybox can sign one. The tests generate a key pair and point eopayment's
    verification at its public half (`point_eopayment_at`, for the test only), then sign answers
    with the private half exactly as Paybox does."""

    name = "paybox"
    options: ClassVar[dict] = {
        "platform": "test",
        "site": "1999888",
        "rang": "32",
        "identifiant": "107904885",
        "shared_secret": "0123456789ABCDEF" * 8,
    }

    def __init__(self):
        from Crypto.PublicKey import RSA

        self.key = RSA.generate(2048)

    def point_eopayment_at(self, monkeypatch) -> None:
        from eopayment import paybox

        monkeypatch.setattr(paybox.verify, "__defaults__", (self.key.publickey().export_key().decode(),))

    def _signed(self, values: dict[str, str], key=None) -> str:
        from Crypto.Hash import SHA
        from Crypto.Signature import PKCS1_v1_5

        data = "&".join(f"{k}={quote(v)}" for k, v in values.items())
        signature = PKCS1_v1_5.new(key or self.key).sign(SHA.new(data.encode()))
        return data + "&signature=" + quote(base64.b64encode(signature).decode(), safe="")

    def answer(self, db, started, decision="pay"):
        sent = {f["name"]: f["value"] for f in started.fields}
        values = {
            "montant": sent["PBX_TOTAL"],
            "reference": sent["PBX_CMD"],
            "code_autorisation": "XXXXXX" if decision == "pay" else "",
            "erreur": {"pay": "00000", "refuse": "00105", "cancel": "00001"}[decision],
            "numero_appel": "0000000001",
            "numero_transaction": "0000000002",
            "date_transaction": "27112026",
            "heure_transaction": "10:30:00",
        }
        return Said(self._signed(values), "retour")

    def _values(self, said: Said) -> dict[str, str]:
        return {k: v for k, v in fields(said.query).items() if k != "signature"}

    def with_amount(self, db, said, cents):
        return Said(self._signed(dict(self._values(said), montant=str(cents))))

    def forged(self, db, said):
        from Crypto.PublicKey import RSA

        values = self._values(said)
        return {
            "tampered amount, old signature": Said(said.query.replace(f"montant={values['montant']}", "montant=1")),
            "unsigned": Said(urlencode(values)),
            "signed with another key": Said(self._signed(values, RSA.generate(1024))),
            "bad signature": Said(urlencode(dict(values, signature="AAAA"))),
        }


class Tipi(Backend):
    """TIPI (PayFiP's URL protocol) signs nothing and eopayment has no status service for it: only
    the notification from the DGFiP's servers (`notify_addresses`) is believed."""

    name = "tipi"
    options: ClassVar[dict] = {"numcli": "123456", "saisie": "T", "notify_addresses": [PROVIDER]}

    def answer(self, db, started, decision="pay"):
        sent = fields(started.url.split("?", 1)[1])
        values = {
            "numcli": sent["numcli"],
            "exer": sent["exer"],
            "refdet": sent["refdet"],
            "objet": "",
            "montant": sent["montant"],
            "mel": sent["mel"],
            "saisie": sent["saisie"],
            "resultrans": {"pay": "P", "refuse": "R", "cancel": "A"}[decision],
            "numauto": "123456" if decision == "pay" else "",
            "dattrans": "27112026",
            "heurtrans": "1030",
        }
        return Said(urlencode(values))

    def with_amount(self, db, said, cents):
        return Said(urlencode(dict(fields(said.query), montant=str(cents))))

    def forged(self, db, said):
        return {
            "from another address": Said(said.query, address=ELSEWHERE),
            "by the browser's return": Said(said.query, source="retour"),
            "production answer for a test town": Said(urlencode(dict(fields(said.query), saisie="W"))),
            "another town's client number": Said(urlencode(dict(fields(said.query), numcli="654321"))),
        }


class Payfip(Backend):
    """PayFiP (eopayment's `payfip_ws`): the answer is only an idop; what happened is what PayFiP's
    SOAP service (here, our local PayFiP) says when eopayment asks."""

    name = "payfip_ws"

    def __init__(self):
        self.options = {
            "numcli": "123456",
            "saisie": "T",
            "service_url": "/paiement/payfip/soap",
            "payment_url": "/paiement/payfip",
        }

    def answer(self, db, started, decision="pay"):
        payfip_sandbox.BANK.decide(started.transaction_ref, decision)
        return Said(urlencode({"idop": started.transaction_ref}))

    def with_amount(self, db, said, cents):
        payfip_sandbox.BANK.operation(fields(said.query)["idop"]).montant = str(cents)
        return said

    def forged(self, db, said):
        idop = fields(said.query)["idop"]
        return {
            "a result claimed beside the idop": Said(urlencode({"idop": idop, "resultrans": "P", "montant": "8350"})),
            "a claimed result without idop": Said("resultrans=P&montant=8350&refdet=F2026000003"),
            "empty": Said(""),
        }


BACKENDS = {
    "payfip_ws": Payfip,
    "tipi": Tipi,
    "systempayv2": Systempay,
    "payzen": lambda: Systempay("payzen"),
    "paybox": Paybox,
}
