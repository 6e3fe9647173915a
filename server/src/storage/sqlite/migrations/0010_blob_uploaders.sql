-- Who uploaded each photo (the user, not only the device): a photo is readable only through
-- documents its uploader (or HQ) wrote. When an unfinished upload last received bytes: abandoned
-- uploads expire, and unfinished ones count against their user's quota.
ALTER TABLE blobs ADD COLUMN uploaded_by_user TEXT;
ALTER TABLE blobs ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE blobs SET uploaded_by_user = (SELECT d.user_id FROM devices d WHERE d.id = blobs.uploaded_by_device),
                 updated_at = created_at;
CREATE INDEX blobs_unfinished_by_user ON blobs(tenant_id, uploaded_by_user) WHERE complete = 0;
CREATE INDEX blobs_unfinished_by_age ON blobs(updated_at) WHERE complete = 0;
