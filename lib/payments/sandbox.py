"""A local test bank that speaks the Systempay v2 protocol (form fields `vads_*` signed with
HMAC-SHA256), for the demo and the tests: it checks the merchant's signature like the real one,
lets the person pay, refuse or cancel, signs its answer with the shared secret, and keeps its
answers so that a lost return can be reconciled. eopayment's own `systempayv2` backend verifies
every answer on our side, so the real signature check runs in every test.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from datetime import UTC, datetime
from urllib.parse import urlencode

import eopayment

from lib.payments.provider import ProviderConfig

TEST_CARD = "4970 1000 0000 0003"
DECISIONS = {
    "pay": ("00", "00", "AUTHORISED"),
    "refuse": ("05", "05", "REFUSED"),
    "cancel": ("17", "", "ABANDONED"),
}


class SandboxBank:
    """One per process: pending requests by id, answers by transaction reference."""

    def __init__(self) -> None:
        self._requests: dict[str, dict] = {}
        self._answers: dict[str, str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _signer(config: ProviderConfig):
        return eopayment.Payment("systempayv2", dict(config.options, service_url="http://sandbox")).backend

    def receive(self, config: ProviderConfig, fields: dict[str, str]) -> str:
        """Check a merchant's payment form; returns the id of the payment page to show."""
        if not {"signature", "vads_amount", "vads_trans_id", "vads_trans_date", "vads_ctx_mode"} <= set(fields):
            raise ValueError("formulaire incomplet")
        expected = self._signer(config).signature(dict(fields))
        if not hmac.compare_digest(expected, fields["signature"]):
            raise ValueError("signature du commerçant invalide")
        request_id = secrets.token_urlsafe(16)
        with self._lock:
            self._requests[request_id] = dict(fields)
        return request_id

    def request(self, request_id: str) -> dict | None:
        with self._lock:
            return self._requests.get(request_id)

    def decide(self, config: ProviderConfig, request_id: str, decision: str) -> tuple[dict, str]:
        """The signed answer for a decision; returns (request fields, answer query string)."""
        with self._lock:
            fields = self._requests.pop(request_id, None)
        if fields is None or decision not in DECISIONS:
            raise ValueError("paiement inconnu ou déjà traité")
        result, auth_result, status = DECISIONS[decision]
        answer = {
            k: v for k, v in fields.items() if k.startswith("vads_") and k not in ("vads_url_return", "vads_url_check")
        }
        answer.update(
            {
                "vads_result": result,
                "vads_auth_result": auth_result,
                "vads_extra_result": "",
                "vads_trans_status": status,
                "vads_auth_number": secrets.token_hex(3).upper() if decision == "pay" else "",
                "vads_effective_creation_date": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
                "vads_card_number": "497010XXXXXX0003" if decision == "pay" else "",
            }
        )
        answer["signature"] = self._signer(config).signature(answer)
        query = urlencode(answer)
        with self._lock:
            self._answers[f"{fields['vads_trans_date']}_{fields['vads_trans_id']}"] = query
        return fields, query

    def status(self, transaction_ref: str) -> str | None:
        """The answer given for a transaction, if any: what a provider's status API returns."""
        with self._lock:
            return self._answers.get(transaction_ref)


BANK = SandboxBank()
