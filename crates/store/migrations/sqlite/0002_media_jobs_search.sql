-- Media items, the durable job queue, and the full-text index.

create table media (
    id            text primary key not null,
    account_id    text not null references accounts (id) on delete cascade,
    status        text not null,          -- accepted | running | finished | failed
    created_at    text not null,
    finished_at   text,
    content_type  text,
    file_name     text,
    media_url     text,
    size_bytes    integer,
    length_ms     integer,
    configuration text not null,          -- JSON, sealscribe's normalised form
    metadata      text,                   -- JSON v3 metadata
    external_id   text,                   -- copied out of metadata for filtering
    transcript    text,                   -- JSON v3 transcript (possibly aligned)
    recognised    text,                   -- JSON v3 transcript as recognised
    tasks         text not null,          -- JSON progress tasks
    failure       text,                   -- JSON {code, error}
    searchable    integer not null
);
create index media_by_account_created on media (account_id, created_at, id);
create index media_by_external_id on media (account_id, external_id);

-- Pending and running work. A row exists while work is owed; it is deleted
-- when the work is done or has definitively failed. A worker holds a lease
-- (`locked_until`) that it renews while working; an expired lease makes the
-- job claimable again, which is how a crashed worker's job is recovered.
create table jobs (
    id            integer primary key autoincrement,
    media_id      text not null references media (id) on delete cascade,
    kind          text not null,
    state         text not null,          -- queued | running
    attempts      integer not null default 0,
    run_at        text not null,
    locked_by     text,
    locked_until  text,
    last_error    text,
    created_at    text not null
);
create index jobs_claimable on jobs (state, run_at);
create index jobs_by_media on jobs (media_id);

-- Full-text index (porter stemming). Only searchable media ever get a row.
create virtual table media_fts using fts5 (
    media_id unindexed,
    account_id unindexed,
    title,
    description,
    transcript,
    tokenize = 'porter unicode61'
);
