-- API keys over `/v3/profile/keys`: every token gets an id (`VbKey.id`), a
-- scope (what it may do; operator tokens are `user`), an optional expiry and
-- its last six characters (`VbKey.lastSix`; unknown for existing tokens).
alter table tokens add column id text;
update tokens set id = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' ||
    hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)));
create unique index tokens_by_id on tokens (id);
alter table tokens add column scope text not null default 'user';
alter table tokens add column expires_at text;
alter table tokens add column last_six text;
