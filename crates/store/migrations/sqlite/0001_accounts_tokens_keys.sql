-- Accounts (tenants), their bearer tokens, and their OpenPGP public keys.
-- Identifiers are UUIDs stored as text; times are RFC 3339 UTC text.

create table accounts (
    id          text primary key not null,
    name        text not null unique,
    created_at  text not null
);

-- Only the SHA-256 of a token is stored; `prefix` is its first characters,
-- shown in listings and used to revoke it.
create table tokens (
    hash        text primary key not null,
    prefix      text not null,
    account_id  text not null references accounts (id) on delete cascade,
    created_at  text not null,
    revoked_at  text
);
create index tokens_by_prefix on tokens (prefix);
create index tokens_by_account on tokens (account_id);

-- A public key is kept byte-for-byte as uploaded (`bytes`), with what was read
-- from it at upload time.
create table public_keys (
    id           text primary key not null,
    account_id   text not null references accounts (id) on delete cascade,
    fingerprint  text not null,
    algorithm    text not null,
    bits         integer not null,
    key_created  text not null,
    key_expires  text,
    user_ids     text not null, -- JSON array of strings
    sha256       text not null,
    bytes        blob not null,
    uploaded_at  text not null
);
create index public_keys_by_account on public_keys (account_id, uploaded_at);
