-- PostgreSQL only (DuckDB records the version with nothing to run). DuckDB finds a period's rows by
-- skipping the row groups outside it (each group knows its min and max; bookings and attendance are
-- stored roughly in day order), so a filter on a site, a service and a day range reads a small part
-- of 11 million bookings without any index. PostgreSQL reads a heap in no such order: without a
-- B-tree on what the queries filter, it reads the whole table. These are the indexes the city
-- bench's EXPLAIN ANALYZE asked for (bench/RESULTS-postgresql.md).

-- A day's places (lib/store/bookings.py places/_taken), the roll call (attendance.py), the kitchen's
-- counts and the day counts' recount: one site, one service, one day or a period. `state` is carried
-- so that counting the places taken reads the index alone.
CREATE INDEX idx_bookings_site_service_day ON bookings (site_id, service_id, day) INCLUDE (state);

-- A day's attendance (the roll call, the day counts' recount, the credits of the invoicing run).
CREATE INDEX idx_attendance_day ON attendance (day, service_id);

-- The mayor's trends and the kitchen's daily series read the counts of a period.
CREATE INDEX idx_day_counts_day ON day_counts (day);

-- The invoicing run and « Facturation » read one month's invoices; each invoice's balance sums its
-- payments, its credit notes and its pending online payment.
CREATE INDEX idx_invoices_period ON invoices (period_month);
CREATE INDEX idx_invoices_corrects ON invoices (corrects_invoice_id);
CREATE INDEX idx_payments_invoice ON payments (invoice_id);
CREATE INDEX idx_payment_transactions_invoice ON payment_transactions (invoice_id);

-- « Journal » shows the latest entries first.
CREATE INDEX idx_audit_logged_at ON audit_log (logged_at);
