-- API keys over `/v3/profile/keys`: every token gets an id (`VbKey.id`), a
-- scope (what it may do; operator tokens are `user`), an optional expiry and
-- its last six characters (`VbKey.lastSix`; unknown for existing tokens).
alter table tokens add column id text collate "C";
update tokens set id = gen_random_uuid()::text;
alter table tokens alter column id set not null;
create unique index tokens_by_id on tokens (id);
alter table tokens add column scope text not null default 'user';
alter table tokens add column expires_at timestamptz;
alter table tokens add column last_six text;
