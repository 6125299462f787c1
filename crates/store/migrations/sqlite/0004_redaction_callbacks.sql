-- Detection results and callback delivery.

-- v3 `prediction` ({detectors:[…]}) of plain media; encrypted media keep it
-- only inside their encrypted result document.
alter table media add column prediction text;

-- Argument of a job: the index of the callback a 'callback' job delivers.
alter table jobs add column arg integer;

-- The secret callbacks of an account are signed with (HMAC-SHA256); created
-- on first use.
alter table accounts add column callback_secret text;

-- One row per configured callback of a media item, from the moment it is
-- owed: its status and every delivery attempt (JSON array of
-- {at, httpStatus?, error?}).
create table deliveries (
    media_id  text not null references media (id) on delete cascade,
    idx       integer not null,
    status    text not null,          -- pending | delivered | failed
    attempts  text not null,
    primary key (media_id, idx)
);
