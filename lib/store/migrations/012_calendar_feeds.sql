-- A child's calendar feed (« Calendrier du téléphone »): a secret address a family subscribes its
-- phone to. Only the token's sha256 is kept, as for login sessions: the token is shown once, when
-- the link is made. A revoked feed keeps its row (revoked_at) so the family's list and the audit
-- stay readable; last_read_at is written at most once an hour (lib/services/calendar_feeds.py).
CREATE SEQUENCE seq_calendar_feeds START 1;
CREATE TABLE calendar_feeds (
    id           INTEGER PRIMARY KEY DEFAULT nextval('seq_calendar_feeds'),
    token_hash   VARCHAR NOT NULL UNIQUE,
    child_id     INTEGER NOT NULL,
    created_by   INTEGER NOT NULL,     -- the family account that made the link
    created_at   TIMESTAMP NOT NULL,   -- UTC
    revoked_at   TIMESTAMP,            -- UTC; NULL while the link works
    last_read_at TIMESTAMP             -- UTC; NULL until a calendar first reads it
);
