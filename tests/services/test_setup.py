"""Production bootstrap: a production start (PORTAIL_MODE=production) refuses a missing database
and every demo setting, each with its fix; `python -m lib.services.setup` prepares a town's own
database (first administrator, deployment settings)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from lib.domain.errors import DatabaseUnavailable, InvalidInput
from lib.services import auth, setup
from lib.services.config import database_exists
from lib.services.demo_marks import SANDBOX_OPTIONS
from lib.store.db import close_database, open_database
from lib.tools import demo
from lib.tools.postgresql_local import free_port
from tests import engines
from tests.conftest import DEMO_NOW
from tests.serve import ROOT

PASSWORD = "correct horse battery staple"


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("PORTAIL_MODE", "production")


@pytest.fixture
def town(db_target, monkeypatch):
    """A town's own database, ready for production: one administrator, its public address, its SMTP server
    (a DuckDB file, or a database on the session's PostgreSQL server)."""
    path = db_target
    monkeypatch.setenv("PORTAIL_DB", str(path))
    db = open_database(path)
    setup.create_admin(db, "Education@Ma-Ville.fr", "Service éducation", PASSWORD, DEMO_NOW)
    setup.set_setting(db, "public_url", "https://famille.ma-ville.fr", DEMO_NOW)
    for key, value in [
        ("mail_transport", "smtp"),
        ("smtp_host", "smtp.ma-ville.fr"),
        ("mail_from", "enfance@ma-ville.fr"),
    ]:
        setup.set_setting(db, key, value, DEMO_NOW)
    yield db
    close_database(path)


def users_and_settings(db) -> tuple:
    return db.rows("SELECT * FROM users ORDER BY id"), db.rows("SELECT * FROM settings ORDER BY key")


def test_a_prepared_town_starts_in_production_and_its_administrator_logs_in(town, production):
    assert setup.production_problems(town) == []
    assert setup.serving_database() is town
    _token, actor = auth.login(town, "education@ma-ville.fr", PASSWORD, DEMO_NOW)
    assert actor.role == "admin" and actor.display_name == "Service éducation"


def _deactivate_admins(db):
    db.write(lambda cur: cur.execute("UPDATE users SET active = FALSE WHERE role = 'admin'"))


def _setting(key, value):
    return lambda db: db.write(
        lambda cur: cur.execute(
            "INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value]
        )
    )


@pytest.mark.parametrize(
    "spoil, problem",
    [
        (_setting("demo_built_for", "2026-11-27"), "c'est la base de démonstration"),
        (
            lambda db: db.write(
                lambda cur: cur.execute(
                    "INSERT INTO users (email, password_hash, role, display_name, created_at) "
                    "VALUES ('agent@demo.fr', ?, 'agent', 'Démo', now()::TIMESTAMP)",
                    [auth.hash_password("demo")],
                )
            ),
            "1 compte(s) de démonstration (…@demo.fr, mot de passe « demo ») existent",
        ),
        (
            _setting("payment_sandbox", "1"),
            "la banque de test est active : python -m lib.services.setup set payment_sandbox 0",
        ),
        (
            _setting("payment_options", json.dumps(dict(SANDBOX_OPTIONS, service_url="https://banque.example/pay"))),
            "le secret de la démonstration",
        ),
        (
            lambda db: db.write(lambda cur: cur.execute("DELETE FROM settings WHERE key = 'public_url'")),
            "public_url, en https) n'est pas renseignée : python -m lib.services.setup set public_url",
        ),
        (_setting("public_url", "http://famille.ma-ville.fr"), "public_url, en https"),
        (
            _setting("payment_backend", "paybox"),
            "Paybox : la confirmation des paiements auprès de Paybox (PPPS) n'est pas disponible ; "
            "utilisez PayFiP ou Systempay : python -m lib.services.setup set payment_backend payfip_ws",
        ),
        (_deactivate_admins, "aucun compte administrateur : python -m lib.services.setup admin --email"),
    ],
)
def test_each_demo_setting_refuses_a_production_start(town, production, spoil, problem):
    spoil(town)
    [found] = setup.production_problems(town)
    assert problem in found
    with pytest.raises(
        setup.NotReadyForProduction, match="Démarrage en production \\(PORTAIL_MODE=production\\) refusé"
    ):
        setup.serving_database()


def test_the_demo_town_is_refused_with_everything_to_fix(demo_db, production):
    problems = setup.production_problems(demo_db)
    # demo base, demo accounts, test bank, no public_url, mail to the sink (the demo's PayFiP has no secret)
    assert len(problems) == 5
    with pytest.raises(setup.NotReadyForProduction) as refused:
        setup.serving_database()
    assert all(p in refused.value.message for p in problems)


def test_outside_production_the_demo_serves_as_before(demo_db, monkeypatch):
    monkeypatch.delenv("PORTAIL_MODE", raising=False)
    assert setup.serving_database() is demo_db
    monkeypatch.setenv("PORTAIL_MODE", "demo")
    assert setup.serving_database() is demo_db


def test_a_missing_database_is_not_created_in_production(db_target, monkeypatch, production):
    """No file (DuckDB), or an empty database (PostgreSQL): no town there."""
    path = db_target
    monkeypatch.setenv("PORTAIL_DB", str(path))
    with pytest.raises(setup.NotReadyForProduction, match=r"n'existe pas .* python -m lib.services.setup admin"):
        setup.serving_database()
    assert demo.main(["--if-missing"]) == 1  # what `make run` does first: no demo town either
    assert not database_exists(path)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql://portail@127.0.0.1:{port}/ville", id="server-down"),
        pytest.param("postgresql://portail@serveur-inconnu.invalid:5432/ville", id="wrong-host"),
    ],
)
def test_a_postgresql_server_that_does_not_answer_is_said_in_french(url, monkeypatch, production):
    """PORTAIL_DB names a server that is down (nothing listens on its port) or a host that does not
    exist: the start and the command line say so in French, without a traceback, on either engine's
    session (no server is needed to find none)."""
    url = url.format(port=free_port())
    monkeypatch.setenv("PORTAIL_DB", url)
    with pytest.raises(DatabaseUnavailable, match=r"(?s)ne répond pas.*Vérifiez qu'il est démarré"):
        setup.serving_database()
    done = subprocess.run(
        [sys.executable, "-m", "lib.services.setup", "check"],
        cwd=ROOT,
        env=dict(os.environ, PORTAIL_DB=url, PORTAIL_MODE="production"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Erreur : " in done.stderr and "ne répond pas" in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_mode_is_refused_rather_than_run_as_the_demo(demo_path, monkeypatch):
    monkeypatch.setenv("PORTAIL_MODE", "prod")
    with pytest.raises(InvalidInput, match="PORTAIL_MODE='prod' n'est pas un mode connu"):
        setup.serving_database()
    assert demo.main(["--if-missing"]) == 1


def test_make_run_in_production_keeps_an_existing_database(town, production, capsys, tmp_path, request):
    # another town's database, not built: no file (DuckDB), or an empty database on the server (PostgreSQL)
    if engines.is_url(town.path):
        other = engines.new_database(request.getfixturevalue("pg_server"))
        request.addfinalizer(lambda: engines.drop(other))
    else:
        other = str(tmp_path / "autre.duckdb")
    assert demo.main(["--if-missing", "--path", other]) == 1
    assert "n'est pas construite" in capsys.readouterr().err
    close_database(town.path)
    assert demo.main(["--if-missing"]) == 0  # then the server's own check decides


def test_the_server_refuses_to_start_in_production_on_the_demo(demo_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    result = subprocess.run(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", port, "--server.address", "127.0.0.1"],
        cwd=ROOT,
        env=dict(os.environ, PORTAIL_DB=str(demo_path), PORTAIL_MODE="production"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Démarrage en production (PORTAIL_MODE=production) refusé" in output
    assert "la banque de test est active" in output and "Traceback" not in output


# --- preparing a town's database -------------------------------------------------------------------
@pytest.mark.parametrize(
    "email, name, password, message",
    [
        ("pas-une-adresse", "Admin", PASSWORD, "Adresse e-mail invalide"),
        ("autre@ma-ville.fr", "Admin", "court", "Mot de passe trop court"),
        ("autre@ma-ville.fr", "Admin", "demo", "Mot de passe trop court"),
        ("autre@ma-ville.fr", "", PASSWORD, "Nom affiché"),
        ("EDUCATION@ma-ville.fr", "Admin", PASSWORD, "Un compte existe déjà avec l'adresse education@ma-ville.fr"),
    ],
)
def test_a_bad_administrator_is_refused_and_nothing_written(town, email, name, password, message):
    before = users_and_settings(town)
    with pytest.raises(InvalidInput, match=message):
        setup.create_admin(town, email, name, password, DEMO_NOW)
    assert users_and_settings(town) == before


def test_the_demo_password_is_refused_even_when_long_enough(monkeypatch):
    monkeypatch.setattr(setup, "MIN_PASSWORD_LENGTH", 4)
    with pytest.raises(InvalidInput, match="celui de la démonstration"):
        setup.check_new_password("Demo")


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("zone", "A", "Réglage inconnu"),
        ("holiday_zone", "D", "Valeur attendue : A ou B ou C"),
        ("public_url", "http://famille.ma-ville.fr", "l'adresse https du portail"),
        ("public_url", "https://famille.ma-ville.fr/chemin?x=1", "sans chemin"),
        ("payment_options", "[1, 2]", "un objet JSON"),
        ("payment_sandbox", "oui", "Valeur attendue : 0 ou 1"),
        ("payment_backend", "../../etc", "un module eopayment"),
        ("contact_email", "nobody", "Adresse e-mail invalide"),
    ],
)
def test_a_bad_setting_is_refused_and_nothing_written(town, key, value, message):
    before = users_and_settings(town)
    with pytest.raises(InvalidInput, match=message):
        setup.set_setting(town, key, value, DEMO_NOW)
    assert users_and_settings(town) == before


def test_payment_secrets_stay_out_of_the_audit_log(town):
    setup.set_setting(town, "payment_options", json.dumps({"secret_production": "s3cr3t-de-la-banque"}), DEMO_NOW)
    logged = town.rows("SELECT coalesce(before, '') || coalesce(after, '') FROM audit_log WHERE entity = 'setting'")
    assert logged and not any("s3cr3t" in text for (text,) in logged)


def test_the_command_line_prepares_a_town_from_nothing(db_target):
    env = dict(os.environ, PORTAIL_DB=str(db_target), PORTAIL_MODE="production")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lib.services.setup", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = run("check")
    assert refused.returncode == 1 and "n'existe pas" in refused.stderr and not database_exists(db_target)
    made = run("admin", "--email", "mairie@ma-ville.fr", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0 and "Compte administrateur n° 1 créé pour mairie@ma-ville.fr" in made.stdout
    missing_url = run("check")
    assert missing_url.returncode == 1 and "public_url" in missing_url.stderr and "Traceback" not in missing_url.stderr
    assert run("set", "public_url", "https://famille.ma-ville.fr").returncode == 0
    missing_mail = run("check")
    assert missing_mail.returncode == 1 and "mail_transport smtp" in missing_mail.stderr
    for key, value in [
        ("mail_transport", "smtp"),
        ("smtp_host", "smtp.ma-ville.fr"),
        ("mail_from", "mairie@ma-ville.fr"),
    ]:
        assert run("set", key, value).returncode == 0
    ready = run("check")
    assert ready.returncode == 0 and "prête pour la production" in ready.stdout
