-- An account's saved definitions (`/v3/definition/...`): spotting groups,
-- vocabularies and categories, keyed by (account, kind, name) as v3 keys them
-- by name. `body` is the definition's JSON as the API validated and stores it
-- (sealscribe_domain::definitions); the store does not interpret it.
create table definitions (
    account_id  text not null references accounts (id) on delete cascade,
    kind        text not null,
    name        text not null,
    body        text not null,
    updated_at  text not null,
    primary key (account_id, kind, name)
) without rowid;
