-- Client Supplied Encryption. For encrypted media, `metadata`, `external_id`,
-- `file_name`, `transcript` and `recognised` stay null: the customer's data
-- exists only as ciphertext (blobs encrypted to their key) and, while it is
-- processed, sealed under `seal_key`, which is deleted when processing ends.

-- {publicKeyId, fingerprint, publicKeyHash}: bookkeeping, shown to the customer.
alter table media add column encryption text;
-- The customer's public key as it was when the media was accepted (pinned:
-- deleting the key later does not affect this media).
alter table media add column pinned_key blob;
-- Hex key of the sealed working copy and of `sealed_input`; null once processing ends.
alter table media add column seal_key text;
-- Metadata and file name, sealed under `seal_key` until they are encrypted into the result.
alter table media add column sealed_input blob;
