-- Readable order numbers (N-000123): the last number each tenant handed out. A number is taken
-- when an order is first reviewed and kept by the review through resubmissions.
CREATE TABLE order_numbers (
    tenant_id BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);
