"""What marks the demo town: the password its accounts share, their e-mail domain, and the test
bank's options with a secret published in this code. The demo builder (lib/tools/demo.py) puts
them in; a production start (lib/services/setup.py) refuses a database or settings that carry them."""

DEMO_PASSWORD = "demo"
DEMO_EMAIL_DOMAIN = "demo.fr"  # every demo account's e-mail ends with @demo.fr
# The local test bank (lib/payments/sandbox.py) speaks Systempay v2; a town puts its own
# provider's backend and options here instead (and payment_sandbox = 0).
SANDBOX_OPTIONS = {
    "site_id": "12345678",
    "secret_test": "demosandboxsecret",
    "signature_algo": "hmac_sha256",
    "ctx_mode": "TEST",
    "vads_return_mode": "GET",
    "service_url": "/paiement/sandbox",
}
