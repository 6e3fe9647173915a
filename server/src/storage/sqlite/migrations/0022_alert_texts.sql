-- An alert's title and detail as codes with arguments (JSON: {"title": {code, args}, "detail": …}),
-- so that each reader sees them in their language. NULL for alerts raised before alerts had codes:
-- those read as their English title and detail.
ALTER TABLE alert_rows ADD COLUMN texts TEXT;
