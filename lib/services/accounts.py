"""An account's life cycle, around the links sent by e-mail: the town invites a family account (the
holder chooses the first password), « Mot de passe oublié ? », the change of an account's e-mail
confirmed at the new address. Logging in and sessions stay in lib/services/auth.py.

Every link is a one-time secret (`secrets.token_urlsafe(32)`) of which only the sha256 is stored;
opening a link's page (GET) never uses it, the form's POST does, once (`store.links.consume`). A link
that does not work gets one French answer whatever the reason; one of ours (used, expired, voided) also
an audit entry saying why, a made-up one nothing. Every
message is queued in the transaction of the change it reports (lib/services/mail.py)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from lib.domain import account_letters
from lib.domain import login_policy as policy
from lib.domain.account_links import (
    EMAIL_TAKEN,
    SAME_EMAIL,
    LinkPurpose,
    LinkRefused,
    StoredLink,
    account_state,
    expiry,
    link_state,
    requests_wait,
)
from lib.domain.actor import Actor
from lib.domain.clock import from_utc_naive, to_utc_naive
from lib.domain.errors import InvalidInput, NotFound, TooManyAttempts
from lib.domain.letters import NAME_LIMIT, one_line
from lib.domain.roles import Role
from lib.domain.validation import check_new_password, check_password_input, known_id, normalize_email
from lib.services import auth, mail
from lib.store import accounts as store
from lib.store import audit, links, users
from lib.store import families as family_store
from lib.store.db import Cursor, Database

_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")
NOT_A_FAMILY_ACCOUNT = "Ce compte n'est pas un compte famille en attente d'activation."
NO_GUARDIAN_EMAIL = "Ce responsable n'a pas d'adresse e-mail : ajoutez-la à son dossier avant de l'inviter."
GUARDIAN_EMAIL_TAKEN = (
    "L'adresse e-mail de ce responsable est déjà celle d'un autre compte : corrigez-la dans son dossier."
)
GUARDIAN_ACTIVATED = "Ce responsable a déjà activé son compte."
ACCOUNT_NOT_FOUND = "Compte introuvable."
FAMILY_NOT_FOUND = "Famille introuvable."
GUARDIAN_NOT_FOUND = "Responsable introuvable."


@dataclass(frozen=True)
class OpenLink:
    """What a link's page shows before its form is sent: whose account it is."""

    email: str  # the account's login (the password manager's user name)
    display_name: str
    new_email: str | None  # the address an e-mail change confirms


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, auth.token_hash(token)


def _hash_of(token: str | None) -> str | None:
    """The stored hash a link's token would have; None for text that no link of ours carries."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    return auth.token_hash(token)


def _url(cur: Cursor, purpose: LinkPurpose, token: str) -> str:
    return mail.portal_link(cur, f"{purpose.path}?jeton={token}")


def _recipient(account: store.Account, address: str | None = None) -> mail.Recipient:
    return mail.Recipient(address or account.email, account.display_name, account.id, account.family_id)


def _why(link: StoredLink, purpose: LinkPurpose, now_utc: datetime) -> str:
    if link.purpose is not purpose:
        return "other_purpose"
    return link_state(link, now_utc).value


def _refuse(
    db: Database, token_hash: str | None, purpose: LinkPurpose, now_utc: datetime, why: str = "", *, record: bool = True
) -> NoReturn:
    """Raise the one answer; with `record`, for a link of ours (used, expired, voided, of another
    purpose, of a closed account), the audit log first says why it did not work and whose it is. A
    made-up or malformed token writes nothing: posting invented links must not fill the log."""
    link = links.peek(db, token_hash) if record and token_hash else None
    if link is not None:
        reason = why or _why(link, purpose, now_utc)
        db.write(
            lambda cur: audit.record(
                cur,
                at_utc=now_utc,
                user_id=None,
                action="auth.link_refused",
                entity="user",
                entity_id=link.user_id,
                after={"purpose": purpose.value, "why": reason},
            )
        )
    raise LinkRefused()


def _usable(
    db: Database, token: str | None, purpose: LinkPurpose, now_utc: datetime, *, record: bool = True
) -> tuple[str, StoredLink, store.Account]:
    """The link's hash, the link and its account, while the link works and its account is open;
    LinkRefused otherwise."""
    token_hash = _hash_of(token)
    link = links.peek(db, token_hash) if token_hash else None
    if token_hash is None or link is None or _why(link, purpose, now_utc) != "usable":
        _refuse(db, token_hash, purpose, now_utc, record=record)
    account = store.account(db.cursor(), link.user_id)
    if account is None or not account.active:
        _refuse(db, token_hash, purpose, now_utc, "inactive", record=record)
    return token_hash, link, account


def open_link(db: Database, token: str | None, purpose: LinkPurpose, now: datetime) -> OpenLink:
    """For the page a link opens (GET): whose it is, if it still works; LinkRefused otherwise. Writes
    nothing, not even the refusal's audit entry (the form's POST records it): a mail scanner that
    fetches the link leaves it working, and fetching made-up links fills no table."""
    _hash, link, account = _usable(db, token, purpose, to_utc_naive(now), record=False)
    return OpenLink(account.email, account.display_name, link.new_email)


# --- « Mot de passe oublié ? » ---------------------------------------------------------------------


def _email_key(email: str) -> str:
    """The throttle key of a typed e-mail: its digest (what was typed is never stored as such)."""
    return "reset:" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]


def _count(cur: Cursor, key: str, row: dict | None, quota: policy.Quota, now_utc: datetime) -> int:
    """Count one request against `key`; how many the window held before it."""
    before = quota.used(row["failures"], row["last_failure_at"], now_utc) if row else 0
    opened = row["last_failure_at"] if row and before else now_utc
    users.save_throttle(cur, key, before + 1, opened, opened + quota.window)
    return before


def request_reset(db: Database, email: str, now: datetime, client_address: str | None = None) -> None:
    """« Mot de passe oublié ? »: send a link valid one hour to the account `email`, if there is an
    active one. Returns None whatever happened (the page gives one answer: RESET_ANSWER), after the
    same writes whether the account exists or not. InvalidInput for a malformed e-mail (nothing
    written); TooManyAttempts, saying when to try again and nothing about the e-mail, past
    `policy.RESET_PER_ADDRESS` from this address (nothing written). Past `policy.RESET_PER_EMAIL`
    for the account, nothing is sent. Without the portal's public address no link can be made: the
    answer is the same, for an account or none, and the audit says so (not which e-mail was typed)."""
    email = normalize_email(email)
    address = policy.address_key(client_address)
    now_utc = to_utc_naive(now)
    token, token_hash = _new_token()
    address_key, email_key = f"reset-address:{address}", _email_key(email)

    def work(cur):
        rows = users.throttle_rows(cur, [address_key, email_key])
        held = rows.get(address_key)
        if held and policy.RESET_PER_ADDRESS.used(held["failures"], held["last_failure_at"], now_utc) >= (
            policy.RESET_PER_ADDRESS.limit
        ):
            raise TooManyAttempts(requests_wait(policy.seconds_to_wait(held["retry_at"], now_utc)))
        _count(cur, address_key, held, policy.RESET_PER_ADDRESS, now_utc)
        earlier = _count(cur, email_key, rows.get(email_key), policy.RESET_PER_EMAIL, now_utc)
        try:  # before the account is looked up: the answer must not depend on whether it exists
            url = _url(cur, LinkPurpose.PASSWORD_RESET, token)
        except InvalidInput as unconfigured:
            audit.record(
                cur,
                at_utc=now_utc,
                user_id=None,
                action="auth.reset_not_sent",
                entity="address",
                entity_id=address,
                reason=unconfigured.message,
            )
            return
        account = store.account_by_email(cur, email)
        if account is None or not account.active:
            audit.record(
                cur,
                at_utc=now_utc,
                user_id=None,
                action="auth.reset_unknown",
                entity="address",
                entity_id=address,
            )
            return
        sent = earlier < policy.RESET_PER_EMAIL.limit
        if sent:
            expires = expiry(LinkPurpose.PASSWORD_RESET, now_utc)
            links.issue(cur, token_hash, LinkPurpose.PASSWORD_RESET, account.id, now_utc, expires)
            letter = account_letters.password_reset(account.display_name, url, from_utc_naive(expires))
            mail.queue(cur, letter, [_recipient(account)], now)
        audit.record(
            cur,
            at_utc=now_utc,
            user_id=account.id,
            action="auth.reset_requested",
            entity="user",
            entity_id=account.id,
            after={"address": address, "sent": sent},
        )

    db.write(work)


def _set_password(
    db: Database,
    token: str | None,
    password: str,
    confirmation: str,
    now: datetime,
    client_address: str | None,
    purpose: LinkPurpose,
) -> str:
    """Choose a password through a link (a reset or an invitation): the link is used, the password
    set, the account activated, every session of the account ended, its failed logins forgiven, every
    other unused link of the account voided (a pending e-mail change included). The account's e-mail (the login page
    fills it in: the holder logs in, never automatically). InvalidInput for a password the policy
    refuses (the link still works); LinkRefused for a link that does not."""
    now_utc = to_utc_naive(now)
    token_hash, _link, account = _usable(db, token, purpose, now_utc)
    chosen = check_new_password(password, confirmation, [account.email, account.display_name])
    password_hash = auth.hash_password(chosen)

    def work(cur):
        if links.consume(cur, token_hash, purpose, now_utc) is None:
            return None
        store.set_password(cur, account.id, password_hash, now_utc)
        ended = users.delete_sessions_of(cur, account.id)
        store.clear_pair_throttles(cur, account.email)
        links.void_all_for_user(cur, account.id, now_utc)
        action = "auth.password_reset" if purpose is LinkPurpose.PASSWORD_RESET else "auth.activated"
        audit.record(
            cur,
            at_utc=now_utc,
            user_id=account.id,
            action=action,
            entity="user",
            entity_id=account.id,
            after={"address": policy.address_key(client_address), "sessions": ended},
        )
        if purpose is LinkPurpose.PASSWORD_RESET:
            mail.queue(cur, account_letters.password_changed(account.display_name, now), [_recipient(account)], now)
        return account.email

    email = db.write(work)
    if email is None:  # used by another click in between
        _refuse(db, token_hash, purpose, now_utc)
    return email


def reset(
    db: Database, token: str | None, password: str, confirmation: str, now: datetime, client_address: str | None = None
) -> str:
    """The forgotten password's link, sent: see `_set_password`. Queues « mot de passe modifié »."""
    return _set_password(db, token, password, confirmation, now, client_address, LinkPurpose.PASSWORD_RESET)


def activate(
    db: Database, token: str | None, password: str, confirmation: str, now: datetime, client_address: str | None = None
) -> str:
    """The invitation's link, sent: the holder's first password (see `_set_password`)."""
    return _set_password(db, token, password, confirmation, now, client_address, LinkPurpose.INVITATION)


# --- invitations (administrator) ------------------------------------------------------------------


def _invite(cur: Cursor, actor: Actor, account: store.Account, now: datetime) -> int:
    """Issue an invitation link for a family account not yet activated (older links stop working) and
    queue its letter; the audit entry's id."""
    if account.role is not Role.FAMILY or not account.active or account.activated_at is not None:
        raise InvalidInput(NOT_A_FAMILY_ACCOUNT)
    now_utc = to_utc_naive(now)
    token, token_hash = _new_token()
    expires = expiry(LinkPurpose.INVITATION, now_utc)
    voided = links.issue(
        cur, token_hash, LinkPurpose.INVITATION, account.id, now_utc, expires, created_by=actor.user_id
    )
    letter = account_letters.invitation(
        account.display_name,
        account.email,
        mail.signature(cur).town,
        _url(cur, LinkPurpose.INVITATION, token),
        from_utc_naive(expires),
    )
    entry = audit.record(
        cur,
        at_utc=now_utc,
        user_id=actor.user_id,
        action="auth.invited",
        entity="user",
        entity_id=account.id,
        after={"email": account.email, "expires": expires, "resent": voided > 0},
    )
    mail.queue(cur, letter, [_recipient(account)], now, created_by=actor.user_id, audit_id=entry)
    return entry


def invite(db: Database, actor: Actor, user_id: int, now: datetime) -> None:
    """Send (or send again: « Renvoyer l'invitation ») the invitation of a family account whose holder
    has not chosen a password; a link sent before stops working. ADMIN only. NotFound for an unknown
    account, InvalidInput for an account already activated, a staff or a closed account."""
    actor.require(Role.ADMIN)
    account_id = known_id(user_id, ACCOUNT_NOT_FOUND)

    def work(cur):
        account = store.account(cur, account_id)
        if account is None:
            raise NotFound(ACCOUNT_NOT_FOUND)
        _invite(cur, actor, account, now)

    db.write(work)


def create_family_account(db: Database, actor: Actor, family_id: int, email: str, name: str, now: datetime) -> int:
    """A new account for a family, not activated, and its invitation, in one transaction; its id.
    ADMIN only. InvalidInput for a malformed or taken e-mail, an empty name; NotFound for an
    unknown family."""
    actor.require(Role.ADMIN)
    email = normalize_email(email)
    display_name = one_line(name, NAME_LIMIT)
    if not display_name:
        raise InvalidInput("Saisissez le nom du responsable (prénom et nom).")
    now_utc = to_utc_naive(now)
    family = known_id(family_id, FAMILY_NOT_FOUND)

    def work(cur):
        if not store.family_exists(cur, family):
            raise NotFound(FAMILY_NOT_FOUND)
        if store.email_taken(cur, email):
            raise InvalidInput(EMAIL_TAKEN)
        user_id = store.create_family_account(cur, email, display_name, family, now_utc)
        account = store.account(cur, user_id)
        assert account is not None
        _invite(cur, actor, account, now)
        return user_id

    return db.write(work)


def _guardian_refusal(cur: Cursor, guardian: store.GuardianAccount) -> str | None:
    """Why the guardian cannot be invited (French), None if it can."""
    if guardian.user_id is not None:
        account = store.account(cur, guardian.user_id)
        if account is not None:
            return GUARDIAN_ACTIVATED if account.activated_at is not None else None
    if not guardian.email:
        return NO_GUARDIAN_EMAIL
    if store.email_taken(cur, guardian.email):
        return GUARDIAN_EMAIL_TAKEN
    return None


def _invite_guardian(cur: Cursor, actor: Actor, guardian: store.GuardianAccount, now: datetime) -> None:
    """The invitation of a guardian `_guardian_refusal` accepts: its account, made from its e-mail and
    name if it has none yet (and linked to it), invited."""
    if guardian.user_id is not None:
        account = store.account(cur, guardian.user_id)
        if account is not None:
            _invite(cur, actor, account, now)
            return
    assert guardian.email
    name = one_line(guardian.full_name, NAME_LIMIT) or guardian.email
    user_id = store.create_family_account(cur, guardian.email, name, guardian.family_id, to_utc_naive(now))
    store.link_guardian(cur, guardian.id, user_id)
    account = store.account(cur, user_id)
    assert account is not None
    _invite(cur, actor, account, now)


def invite_guardian(db: Database, actor: Actor, guardian_id: int, now: datetime) -> None:
    """Invite a guardian of a family file: the account is created from the guardian's e-mail and name
    (not activated) and linked to the guardian, then the invitation is queued, in one transaction; a
    guardian whose account waits is invited again (the older link stops working). ADMIN only.
    NotFound for an unknown or archived guardian; InvalidInput for a guardian without e-mail, with an
    e-mail another account uses, or already activated."""
    actor.require(Role.ADMIN)
    wanted = known_id(guardian_id, GUARDIAN_NOT_FOUND)

    def work(cur):
        guardian = store.guardian(cur, wanted)
        if guardian is None or guardian.archived:
            raise NotFound(GUARDIAN_NOT_FOUND)
        refusal = _guardian_refusal(cur, guardian)
        if refusal:
            raise InvalidInput(refusal)
        _invite_guardian(cur, actor, guardian, now)

    db.write(work)


@dataclass(frozen=True)
class Invitations:
    """What « Inviter les responsables pas encore invités » did."""

    sent: int
    skipped: tuple[str, ...]  # « Léa Martin (lea@exemple.fr) : reason », French


def invite_all_pending(db: Database, actor: Actor, now: datetime) -> Invitations:
    """Every guardian with an e-mail and no account gets one and its invitation, and every family
    account without a password never invited is invited, in one transaction. A guardian whose e-mail
    another account uses is skipped and said (ADMIN only)."""
    actor.require(Role.ADMIN)

    def work(cur):
        sent, skipped = 0, []
        for guardian in store.guardians_without_account(cur):
            refusal = _guardian_refusal(cur, guardian)
            if refusal:
                skipped.append(f"{guardian.full_name} ({guardian.email}) : {refusal}")
                continue
            _invite_guardian(cur, actor, guardian, now)
            sent += 1
        for account in store.never_invited(cur):
            _invite(cur, actor, account, now)
            sent += 1
        return Invitations(sent, tuple(skipped))

    return db.write(work)


def family_guardians(db: Database, actor: Actor, family_id: int) -> list[store.FamilyGuardian]:
    """A family's guardians and the state of their accounts (ADMIN only)."""
    actor.require(Role.ADMIN)
    return store.family_guardians(db, known_id(family_id, FAMILY_NOT_FOUND))


def guardian_states(db: Database, actor: Actor, family_id: int, now: datetime) -> dict[int, str]:
    """Guardian id → his account's state in words, for the family file (ADMIN only): none, invited (the
    link valid until or expired since), activated, or closed with the archived file (archiving closes
    the accounts)."""
    guardians = family_guardians(db, actor, family_id)
    found = family_store.family(db, family_id)
    if found is not None and found.archived_at is not None:
        return {g.id: "fermé avec le dossier" if g.user_id else "aucun compte" for g in guardians}
    at = to_utc_naive(now)
    return {
        g.id: account_state(g.user_id is not None, g.activated_at, g.invited_at, g.expires_at, at) for g in guardians
    }


def not_activated(db: Database, actor: Actor) -> list[store.Invitee]:
    """« Comptes non activés »: who was invited when, until when (ADMIN only)."""
    actor.require(Role.ADMIN)
    return store.not_activated(db)


def families(db: Database, actor: Actor) -> list[tuple[int, str]]:
    """The families to give an account to, by name (ADMIN only)."""
    actor.require(Role.ADMIN)
    return store.families(db)


# --- « Changer d'adresse e-mail » -------------------------------------------------------------------


def request_email_change(
    db: Database, actor: Actor, current_password: str, new_email: str, now: datetime, client_address: str | None = None
) -> None:
    """Send a confirmation link (valid 24 hours) to `new_email` and a notice to the account's
    address; nothing changes until the link is confirmed. The current password is checked and
    counted like a failed login (auth.change_password's rule). InvalidInput for a malformed, the same
    or a taken address; LoginRefused for a wrong password; TooManyAttempts while the throttle says to
    wait. Nothing is written but the throttle's count on a refusal."""
    if not current_password:
        raise InvalidInput("Saisissez votre mot de passe actuel.")
    current = check_password_input(current_password)
    new = normalize_email(new_email)
    if new == actor.email:
        raise InvalidInput(SAME_EMAIL)
    address = policy.address_key(client_address)
    _row, counted = auth._check_password(db, actor.email, current, address, now, auth.WRONG_CURRENT_PASSWORD)
    now_utc = to_utc_naive(now)
    token, token_hash = _new_token()

    def work(cur):
        auth._forgive(cur, counted, now_utc)
        if store.email_taken(cur, new):
            return False
        account = store.account(cur, actor.user_id)
        assert account is not None
        expires = expiry(LinkPurpose.EMAIL_CHANGE, now_utc)
        links.issue(cur, token_hash, LinkPurpose.EMAIL_CHANGE, account.id, now_utc, expires, new_email=new)
        url = _url(cur, LinkPurpose.EMAIL_CHANGE, token)
        mail.queue(
            cur,
            account_letters.email_change(account.display_name, new, url, from_utc_naive(expires)),
            [_recipient(account, new)],
            now,
        )
        mail.queue(cur, account_letters.email_change_notice(account.display_name, new, now), [_recipient(account)], now)
        audit.record(
            cur,
            at_utc=now_utc,
            user_id=account.id,
            action="auth.email_change_requested",
            entity="user",
            entity_id=account.id,
            after={"new": new, "address": address},
        )
        return True

    if not db.write(work):
        raise InvalidInput(EMAIL_TAKEN)


def confirm_email_change(db: Database, token: str | None, now: datetime, session_token: str | None = None) -> str:
    """The new address's link, confirmed (POST): the account's e-mail becomes the new address (and its
    guardian's), the addresses it logs in from follow, its other sessions end (the one confirming, if
    it is the account's, stays). The new e-mail. InvalidInput when the address has been taken since
    the request (nothing written but the audit entry; the link still works); LinkRefused."""
    now_utc = to_utc_naive(now)
    token_hash, link, _account = _usable(db, token, LinkPurpose.EMAIL_CHANGE, now_utc)
    keep = auth.token_hash(session_token) if session_token else None

    def work(cur):
        used = links.consume(cur, token_hash, LinkPurpose.EMAIL_CHANGE, now_utc)
        if used is None:
            return None
        account = store.account(cur, used.user_id)
        new = used.new_email or ""
        if account is None or not account.active or not new:
            return None
        if store.email_taken(cur, new):
            raise InvalidInput(EMAIL_TAKEN)
        store.set_email(cur, account.id, account.email, new)
        store.set_guardian_email(cur, account.id, new)
        ended = users.delete_sessions_of(cur, account.id, keep_token_hash=keep)
        audit.record(
            cur,
            at_utc=now_utc,
            user_id=account.id,
            action="auth.email_changed",
            entity="user",
            entity_id=account.id,
            before={"email": account.email},
            after={"email": new, "other_sessions": ended},
        )
        return new

    try:
        new = db.write(work)
    except InvalidInput as refusal:
        audit.record_refusal(
            db,
            at_utc=now_utc,
            user_id=link.user_id,
            action="auth.email_change_refused",
            entity="user",
            entity_id=link.user_id,
            reason=refusal.message,
        )
        raise
    if new is None:
        _refuse(db, token_hash, LinkPurpose.EMAIL_CHANGE, now_utc)
    return new
