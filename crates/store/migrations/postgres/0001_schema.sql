-- The PostgreSQL schema: the same tables and rules as the SQLite migrations
-- 0001-0004, in one step, with PostgreSQL's own types.
--
-- * Identifiers are UUIDs kept as text, collated "C": byte order (which is
--   the order SQLite uses, and what keyset paging compares), no locale
--   rules, and an account looked up by "name or id" never trips over a
--   string that is not a UUID.
-- * Times are timestamptz (microsecond precision).
-- * JSON documents are `json`, not `jsonb`: validated, but kept as written, so
--   they read back exactly as SQLite returns them, and a customer's metadata
--   or transcript containing "\u0000" (which jsonb rejects) is stored like any
--   other. Nothing queries inside them; cast to jsonb for ad-hoc reports.
-- * Integers are bigint (Rust i64), flags boolean, binary data bytea.

create table accounts (
    id               text collate "C" primary key,
    name             text not null unique,
    created_at       timestamptz not null,
    -- The secret callbacks of an account are signed with (HMAC-SHA256); created
    -- on first use.
    callback_secret  text
);

-- Only the SHA-256 of a token is stored; `prefix` is its first characters,
-- shown in listings and used to revoke it.
create table tokens (
    hash        text collate "C" primary key,
    prefix      text collate "C" not null,
    account_id  text collate "C" not null references accounts (id) on delete cascade,
    created_at  timestamptz not null,
    revoked_at  timestamptz
);
create index tokens_by_prefix on tokens (prefix);
create index tokens_by_account on tokens (account_id);

-- A public key is kept byte-for-byte as uploaded (`bytes`), with what was read
-- from it at upload time.
create table public_keys (
    id           text collate "C" primary key,
    account_id   text collate "C" not null references accounts (id) on delete cascade,
    fingerprint  text not null,
    algorithm    text not null,
    bits         bigint not null,
    key_created  timestamptz not null,
    key_expires  timestamptz,
    user_ids     text[] not null,
    sha256       text not null,
    bytes        bytea not null,
    uploaded_at  timestamptz not null
);
create index public_keys_by_account on public_keys (account_id, uploaded_at);

-- Media items. For encrypted media (Client Supplied Encryption), `metadata`,
-- `external_id`, `file_name`, `transcript` and `recognised` stay null: the
-- customer's data exists only as ciphertext (blobs encrypted to their key)
-- and, while it is processed, sealed under `seal_key`, which is deleted when
-- processing ends.
create table media (
    id            text collate "C" primary key,
    account_id    text collate "C" not null references accounts (id) on delete cascade,
    status        text not null,          -- accepted | running | finished | failed
    created_at    timestamptz not null,
    finished_at   timestamptz,
    content_type  text,
    file_name     text,
    media_url     text,
    size_bytes    bigint,
    length_ms     bigint,
    configuration json not null,          -- sealscribe's normalised form
    metadata      json,                   -- v3 metadata
    external_id   text,                   -- copied out of metadata for filtering
    transcript    json,                   -- v3 transcript (possibly aligned)
    recognised    json,                   -- v3 transcript as recognised
    tasks         json not null,          -- progress tasks
    failure       json,                   -- {code, error}
    searchable    boolean not null,
    -- {publicKeyId, fingerprint, publicKeyHash}: bookkeeping, shown to the customer.
    encryption    json,
    -- The customer's public key as it was when the media was accepted (pinned:
    -- deleting the key later does not affect this media).
    pinned_key    bytea,
    -- Hex key of the sealed working copy and of `sealed_input`; null once processing ends.
    seal_key      text,
    -- Metadata and file name, sealed under `seal_key` until they are encrypted into the result.
    sealed_input  bytea,
    -- v3 `prediction` ({detectors:[…]}) of plain media; encrypted media keep it
    -- only inside their encrypted result document.
    prediction    json
);
create index media_by_account_created on media (account_id, created_at, id);
create index media_by_external_id on media (account_id, external_id);

-- Pending and running work. A row exists while work is owed; it is deleted
-- when the work is done or has definitively failed. A worker holds a lease
-- (`locked_until`) that it renews while working; an expired lease makes the
-- job claimable again, which is how a crashed worker's job is recovered.
-- Workers on any number of machines claim with `for update skip locked`.
create table jobs (
    id            bigint generated always as identity primary key,
    media_id      text collate "C" not null references media (id) on delete cascade,
    kind          text not null,          -- process | callback
    -- The index of the callback a 'callback' job delivers.
    arg           bigint,
    state         text not null,          -- queued | running
    attempts      bigint not null default 0,
    run_at        timestamptz not null,
    locked_by     text,
    locked_until  timestamptz,
    last_error    text,
    created_at    timestamptz not null
);
-- The claim's `order by run_at, id`, walked until an unlocked runnable job.
create index jobs_claim_order on jobs (run_at, id);
create index jobs_by_media on jobs (media_id);

-- One row per configured callback of a media item, from the moment it is
-- owed: its status and every delivery attempt ([{at, httpStatus?, error?}]).
create table deliveries (
    media_id  text collate "C" not null references media (id) on delete cascade,
    idx       bigint not null,
    status    text not null,          -- pending | delivered | failed
    attempts  json not null,
    primary key (media_id, idx)
);

-- Full-text search, matching SQLite's `porter unicode61` FTS5 index as
-- closely as PostgreSQL allows (src/postgres/search.rs lists what differs).
--
-- Snowball English stemming like the built-in `english` configuration, but
-- without its stop-word list: FTS5 drops no words, so "the" or "will" are
-- searchable on both backends.
create text search dictionary sealscribe_english_stem (template = snowball, language = english);
create text search configuration sealscribe_english (copy = pg_catalog.english);
alter text search configuration sealscribe_english
    alter mapping replace english_stem with sealscribe_english_stem;

-- unicode61 splits text at every character that is not a letter or digit.
-- PostgreSQL's parser instead keeps e-mail addresses, URLs, hyphenated words,
-- signed and decimal numbers together (`covid-19` → `covid`, `-19`), so
-- indexed text and query terms alike are first reduced to words separated by
-- spaces, and the parser then sees what unicode61 would.
create function sealscribe_words(text) returns text
    language sql immutable strict parallel safe
    as $$ select regexp_replace($1, '[^[:alnum:]]+', ' ', 'g') $$;

-- Only searchable media ever get a row. Like FTS5's table it keeps the text;
-- `document` holds the title (weight A), description (B) and transcript (C),
-- and a term restricted to one field is matched against that weight only.
create table media_search (
    media_id     text collate "C" primary key references media (id) on delete cascade,
    account_id   text collate "C" not null,
    title        text not null,
    description  text not null,
    transcript   text not null,
    document     tsvector not null generated always as (
        setweight(to_tsvector('sealscribe_english', sealscribe_words(title)), 'A')
        || setweight(to_tsvector('sealscribe_english', sealscribe_words(description)), 'B')
        || setweight(to_tsvector('sealscribe_english', sealscribe_words(transcript)), 'C')
    ) stored
);
create index media_search_document on media_search using gin (document);
