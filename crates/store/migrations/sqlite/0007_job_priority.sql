-- The claim order of jobs (`JobQueue::claim_job_aging`, docs/operations.md
-- "Priority"): a job's effective time is `run_at` moved earlier by one aging
-- window per priority step. 0 = low, 1 = normal, 2 = high; callback
-- deliveries are 1.
alter table jobs add column priority integer not null default 1;
-- A claim takes the oldest due job of each priority and compares the three.
create index jobs_by_priority on jobs (priority, run_at, id);

-- Jobs queued before this migration take their media's configured priority.
update jobs set priority = case
        (select json_extract(configuration, '$.priority') from media where media.id = jobs.media_id)
        when 'high' then 2 when 'low' then 0 else 1 end
    where kind = 'process';
