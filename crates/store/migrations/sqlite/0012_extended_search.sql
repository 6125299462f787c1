-- Extended-metadata search (`extendedFilter` on `GET /v3/media`): one row per
-- searchable media item, searchable field and value — the string form of the
-- value of `metadata.extended.<path>` (sealscribe_domain::extended) for the
-- fields the account had made searchable when the media was indexed. Compared
-- with `=` (binary: exact and case-sensitive, as on PostgreSQL with "C").
-- Encrypted and unsearchable media never get a row.
create table media_extended (
    media_id    text not null references media (id) on delete cascade,
    account_id  text not null,
    field       text not null,
    value       text not null,
    primary key (media_id, field, value)
) without rowid;
create index media_extended_lookup on media_extended (account_id, field, value);
