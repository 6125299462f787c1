-- What each speaker said, for search terms restricted to a speaker
-- (`query=Caller:refund`): one row per searchable media item and speaker
-- (`speaker` is the lower-cased name, sealscribe_domain::media::speaker_key),
-- searched like `media_search` (src/postgres/search.rs). Mono media have no
-- speaker and no row. Media indexed before this migration were all mono.
create table media_speech (
    media_id    text collate "C" not null references media (id) on delete cascade,
    account_id  text collate "C" not null,
    speaker     text not null,
    words       text not null,
    document    tsvector not null generated always as (
        to_tsvector('sealscribe_english', sealscribe_words(words))
    ) stored,
    primary key (media_id, speaker)
);
create index media_speech_document on media_speech using gin (document);
