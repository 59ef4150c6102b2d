-- Tickets are kept under a key that begins with their issue time (then the SHA-256 of the ticket),
-- so that tickets issued and redeemed together share pages. Tickets of the old form live 30
-- seconds and could not be redeemed under the new keys: they are dropped.
DELETE FROM tickets;
ALTER TABLE tickets RENAME COLUMN ticket_hash TO ticket_key;
