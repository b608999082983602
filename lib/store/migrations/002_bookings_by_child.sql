-- A family's calendar, a template or a cancel reads and writes one child's bookings. At city scale
-- (11 million rows) finding them by scanning costs tens of milliseconds; through this index, a
-- few. The queries read it with `child_id = ?` alone (see lib/store/bookings.py: DuckDB scans
-- sequentially as soon as another filter joins the indexed one).
CREATE INDEX idx_bookings_child ON bookings (child_id);
