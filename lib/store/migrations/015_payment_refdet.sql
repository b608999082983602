-- The payment reference an attempt sent to the provider, as the public accountant matches it:
-- lib.domain.invoicing.payment_reference(number) (PayFiP's REFDET, the other providers' order
-- reference) and the invoice's year (PayFiP's EXER). The provider's answer names them again and
-- record_answer checks them against the attempt; the family sees them on the payment pages.
-- Attempts made before this migration sent the invoice number itself: their reference is left
-- NULL, and record_answer checks their answers against order_ref as it used to.
ALTER TABLE payment_transactions ADD COLUMN payment_ref VARCHAR;
ALTER TABLE payment_transactions ADD COLUMN exer INTEGER;
