-- Booked days counted per day × site × service × diet, with the attendance checked among them
-- (lib/store/day_counts.py). The mayor's trends and the kitchen's daily series read these few
-- hundred thousand rows instead of joining 11 million bookings with their attendance.
--
-- A day's rows count only while the day is listed in day_counts_done. Every store function that
-- writes bookings or attendance strikes the days it touched off that list, in its transaction;
-- the next reader of those days counts them again from the bookings (set-based, one statement).
-- No key on day_counts: a day's rows are always deleted and inserted together.
CREATE TABLE day_counts (
    day        DATE NOT NULL,
    site_id    INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
    diet_code  VARCHAR,          -- the child's diet (NULL only for a booking without its child)
    booked     INTEGER NOT NULL, -- bookings in state 'booked'
    checked    INTEGER NOT NULL, -- … with an attendance row
    present    INTEGER NOT NULL, -- … whose status is 'present'
    absent     INTEGER NOT NULL  -- … whose status is 'absent' or 'justified'
);

CREATE TABLE day_counts_done (
    day DATE PRIMARY KEY
);
