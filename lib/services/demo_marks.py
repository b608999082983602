"""What marks the demo town: the password its accounts share, their e-mail domain, and the test
bank's options with a secret published in this code. The demo builder (lib/tools/demo.py) puts
them in; a production start (lib/services/setup.py) refuses a database or settings that carry them."""

DEMO_PASSWORD = "demo"
DEMO_EMAIL_DOMAIN = "demo.fr"  # every demo account's e-mail ends with @demo.fr
# The demo's two local test banks, served by the portal itself (payment_sandbox = 1): PayFiP, the
# DGFiP's service most towns use (lib/payments/payfip_sandbox.py: eopayment's `payfip_ws` talks SOAP
# to it), the demo's default; and a Systempay v2 bank (lib/payments/sandbox.py). A town puts its own
# provider's backend and options here instead (and payment_sandbox = 0).
PAYFIP_SANDBOX_OPTIONS = {
    "numcli": "123456",
    "saisie": "T",
    "service_url": "/paiement/payfip/soap",
    "payment_url": "/paiement/payfip",
}
SANDBOX_OPTIONS = {
    "site_id": "12345678",
    "secret_test": "demosandboxsecret",
    "signature_algo": "hmac_sha256",
    "ctx_mode": "TEST",
    "vads_return_mode": "GET",
    "service_url": "/paiement/sandbox",
}

SANDBOXES = {"payfip": ("payfip_ws", PAYFIP_SANDBOX_OPTIONS), "systempay": ("systempayv2", SANDBOX_OPTIONS)}
