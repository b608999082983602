"""Helpers shared by test modules (fixtures live in the conftest.py files): a test module imports
from here, from tests.serve or from a conftest, never from another test module."""

from __future__ import annotations

import io
import re
from html import unescape

from fontTools.ttLib import TTFont
from streamlit.testing.v1 import AppTest

from lib.services import auth
from lib.ui.session import TEST_TOKEN_KEY
from lib.web import fonts
from tests.conftest import DEMO_NOW
from tests.serve import ROOT

# --- pages through AppTest ------------------------------------------------------------------------

TIMEOUT = 30


def app_test(script: str, db, email: str | None) -> AppTest:
    """The page `script` under AppTest, logged in as the demo account `email` (None: logged out).
    AppTest cannot send cookies: the session token goes where lib.ui.session looks for it in tests."""
    at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
    if email:
        at.session_state[TEST_TOKEN_KEY] = auth.login(db, email, "demo", DEMO_NOW)[0]
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.header] + [e.value for e in at.subheader]
    parts += [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [e.value for e in at.info] + [e.value for e in at.warning] + [e.value for e in at.success]
    parts += [e.value for e in at.error] + [str(m.value) for m in at.metric] + [m.label for m in at.metric]
    return "\n".join(str(p) for p in parts)


def plotly_values(encoded):
    """Plotly sends numeric arrays as base64 typed arrays ({'dtype', 'bdata'})."""
    import base64

    import numpy as np

    if isinstance(encoded, dict):
        return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"]).tolist()
    return list(encoded)


# --- our HTTP routes through Starlette's test client ----------------------------------------------


def csrf(client):
    page = client.get("/connexion")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]


def post_login(client, email, password, token=None, **headers):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf": token or csrf(client)},
        headers=headers,
        follow_redirects=False,
    )


# --- online payment ---------------------------------------------------------------------------------

PORT = 8501  # the port the process serves on: the portal's address without `public_url`
PROVIDER = "192.0.2.10"  # where the provider's answers come from
KEY = "route-test-key-123456"  # the idempotency key a payment form carries


def hidden_fields(html):
    return {
        unescape(n): unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    }


def unpaid_id(db):
    """The demo family's unpaid October invoice."""
    return db.value("SELECT id FROM invoices WHERE number = 'F-2026-000267'")


# --- fonts ------------------------------------------------------------------------------------------

MEDIA = fonts.streamlit_media_dir()
ICON_FILE = next(MEDIA.glob("MaterialSymbols-Rounded.*.woff2"))
TEXT_FILE = next(MEDIA.glob("SourceSansVF-Upright.ttf.*.woff2"))
ITALIC_FILE = next(MEDIA.glob("SourceSansVF-Italic.ttf.*.woff2"))


def our_icons() -> set[str]:
    """Every `:material/…:` in app.py, pages/ and lib/, found by the tests on their own."""
    found = set()
    for path in [ROOT / "app.py", *ROOT.glob("pages/**/*.py"), *ROOT.glob("lib/**/*.py")]:
        found.update(re.findall(r":material/([a-z0-9_]+):", path.read_text(encoding="utf-8")))
    return found


def font(body: bytes) -> TTFont:
    return TTFont(io.BytesIO(body))
