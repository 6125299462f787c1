-- What each speaker said, for search terms restricted to a speaker
-- (`query=Caller:refund`): one row per searchable media item and speaker
-- (`speaker` is the lower-cased name, sealscribe_domain::media::speaker_key),
-- with the same tokenizer as `media_fts`. Mono media have no speaker and no
-- row. Media indexed before this migration were all mono.
create virtual table media_speech_fts using fts5 (
    media_id unindexed,
    account_id unindexed,
    speaker unindexed,
    words,
    tokenize = 'porter unicode61'
);
