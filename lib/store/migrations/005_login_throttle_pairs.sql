-- Logins are throttled per (account, address) pair and per address, with a growing delay and no
-- hard lockout (lib/domain/login_policy.py). The old table counted per e-mail and per address with
-- a 15-minute lock; its counts mean nothing to the new rule and are only minutes of history.
DROP TABLE login_throttle;
CREATE TABLE login_throttle (
    key             VARCHAR PRIMARY KEY,  -- 'pair:<e-mail> <address>' or 'address:<address>'
    failures        INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL,
    retry_at        TIMESTAMP NOT NULL    -- no attempt for this key is checked before then
);
-- The addresses each e-mail has logged in from: an address guessing at accounts is slowed only for
-- the accounts it has never opened, so the owner's usual address is never held up by it.
CREATE TABLE login_known_addresses (
    email         VARCHAR NOT NULL,
    address       VARCHAR NOT NULL,
    last_login_at TIMESTAMP NOT NULL,
    PRIMARY KEY (email, address)
);
-- Sessions end after a time without use (2 h for staff, 12 h for families).
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;
UPDATE sessions SET last_seen_at = created_at;
