-- Extended-metadata search (`extendedFilter` on `GET /v3/media`): one row per
-- searchable media item, searchable field and value — the string form of the
-- value of `metadata.extended.<path>` (sealscribe_domain::extended) for the
-- fields the account had made searchable when the media was indexed. Compared
-- with `=` under "C" (bytewise: exact and case-sensitive, as on SQLite). Values
-- are at most 256 characters (1 KiB), well inside a B-tree entry.
-- Encrypted and unsearchable media never get a row.
create table media_extended (
    media_id    text collate "C" not null references media (id) on delete cascade,
    account_id  text collate "C" not null,
    field       text collate "C" not null,
    value       text collate "C" not null,
    primary key (media_id, field, value)
);
create index media_extended_lookup on media_extended (account_id, field, value);
