-- PostgreSQL only (DuckDB records the version with nothing to run). A booking's e-mail joins the
-- family's message still waiting (lib/services/mail.queue_merged → store.outbox.mergeable, by
-- `merge_key`). Without an index that read scans the whole outbox, and in a SERIALIZABLE transaction a
-- scan locks the whole table's predicate: every other family's booking that queued an e-mail at the
-- same time then "conflicted" with it and was run again, until bookings of unrelated families ran
-- out of retries under load (bench/LOAD.md). Through this index the read locks only its own keys.
CREATE INDEX idx_outbox_merge_key ON outbox (merge_key);
