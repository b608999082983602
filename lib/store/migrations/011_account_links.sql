-- The account's life cycle: an account is activated when its holder chose a password (the accounts
-- that exist already were, when they were created); a link sent by e-mail (invitation, forgotten
-- password, new address) is a row of `link_tokens` keyed by the sha256 of its secret, never the secret.
ALTER TABLE users ADD COLUMN activated_at TIMESTAMP;   -- UTC; NULL: invited, password not chosen yet
UPDATE users SET activated_at = created_at;

CREATE TABLE link_tokens (
    token_hash VARCHAR PRIMARY KEY,                    -- sha256 hex of the link's secret
    purpose    VARCHAR NOT NULL CHECK (purpose IN ('invitation', 'password_reset', 'email_change')),
    user_id    INTEGER NOT NULL,
    new_email  VARCHAR,                                -- the address to confirm (email_change only)
    created_at TIMESTAMP NOT NULL,                     -- UTC
    expires_at TIMESTAMP NOT NULL,                     -- UTC: usable while now < expires_at
    used_at    TIMESTAMP,                              -- UTC: consumed, or voided by a newer link
    created_by INTEGER                                 -- the administrator who invited; NULL: the holder asked
);
