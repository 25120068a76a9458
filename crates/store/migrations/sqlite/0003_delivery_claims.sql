-- Delivery claims: with several alert-stage processes, each outbox row is claimed by one of them
-- (status 'sending', owner, claimed_ms) before it is sent; a claim whose owner died expires.
ALTER TABLE deliveries ADD COLUMN owner TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_ms BIGINT;
