-- The seal key of a media item in processing, wrapped under the
-- key-encryption key that the API and worker processes hold outside the
-- database (`sskw1:<kek id>:<hex>`, see sealscribe_seal::kek); null once
-- processing ends. A database copy alone opens no sealed working copy.
alter table media add column wrapped_seal_key text;
-- `seal_key` (the key in clear hex) is no longer written. A value left by an
-- earlier version for media in processing at the upgrade is wrapped, and the
-- column cleared, by the first `sealscribe serve` or `worker` to start.
