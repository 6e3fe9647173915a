-- Failed logins, counted by every node (rate limits hold across nodes). `key` is an account
-- (`account:<tenant>\0<username>`) or a client address (`address:<ip>`); rows older than the
-- window are deleted as new failures arrive.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures(key, at);
CREATE INDEX login_failures_by_time ON login_failures(at);
