-- The order reference an attempt sent to the provider (its invoice's number), kept on the attempt.
-- The provider's answer names it again (Systempay's vads_order_id): record_answer checks the two
-- match and writes the number in its message, from the attempt's own row in one point lookup,
-- where it used to join the invoices (hundreds of thousands of rows in a city) on every
-- notification. Invoice numbers never change once issued, so the copy cannot drift.
-- ('?' only for an attempt whose invoice is gone, as the join used to say.)
ALTER TABLE payment_transactions ADD COLUMN order_ref VARCHAR NOT NULL DEFAULT '?';
UPDATE payment_transactions t SET order_ref = i.number FROM invoices i WHERE i.id = t.invoice_id;
