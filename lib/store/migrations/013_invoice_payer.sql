-- Who each invoice is addressed to (issue 15: the billed guardian, or each of the two for a split
-- bill), and what a split line is. Invoices published before are their family's guardian 1's.
ALTER TABLE invoices ADD COLUMN payer_guardian_id INTEGER;
UPDATE invoices SET payer_guardian_id = (
    SELECT g.id FROM guardians g WHERE g.family_id = invoices.family_id AND g.rank = 1);

-- A split line is one payer's share of a (child, service) line: each share repeats the quantity for
-- reading, only one of them counts it in what the month has billed (`counted`); `share_percent` is
-- the share printed on it (NULL: the whole line).
ALTER TABLE invoice_lines ADD COLUMN counted BOOLEAN DEFAULT true;
ALTER TABLE invoice_lines ADD COLUMN share_percent INTEGER;
