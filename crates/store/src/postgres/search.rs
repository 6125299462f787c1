//! Full-text search on PostgreSQL, kept as close as practical to SQLite's FTS5
//! index (`porter unicode61`), so a v3 `query` finds the same media on either
//! backend.
//!
//! How the FTS5 semantics are reproduced (the schema side is in the
//! migration, `media_search`):
//! - **Tokens.** unicode61 splits text at every character that is not a letter
//!   or digit; PostgreSQL's parser keeps e-mail addresses, URLs, hyphenated
//!   words and signed or decimal numbers together. `sealscribe_words()` first
//!   replaces every run of other characters with a space, in the indexed text
//!   and in each query term alike, so the parser sees what unicode61 would.
//! - **Stemming and stop words.** English Snowball stemming through the
//!   `sealscribe_english` configuration: the built-in `english` one without
//!   its stop-word list, because FTS5 drops no words ("the meeting" must find
//!   "the meeting").
//! - **Terms.** FTS5 reads each quoted term as a phrase of its tokens (`e-mail`
//!   is `e` followed by `mail`); here each term is `phraseto_tsquery`, which
//!   means the same. Terms are AND-ed. A term without any word (which the
//!   API never sends) matches nothing alone and, unrestricted, is ignored
//!   beside others, as FTS5 does with an empty phrase; restricted to a field
//!   it matches nothing, where FTS5 would ignore it too.
//! - **Fields.** One tsvector holds the title (weight A), description (B) and
//!   transcript (C). A term restricted to a field must match that weight's
//!   lexemes (`ts_filter`) as well as the whole document (which is what the GIN
//!   index answers).
//! - **Speakers.** A term restricted to a speaker (`Caller:refund`) must match
//!   that media item's row of `media_speech` for the speaker (the speaker's
//!   words, one tsvector per media item and speaker), as on SQLite it must
//!   match the speaker's row of `media_speech_fts`. Speakers are compared by
//!   their lower-cased names, computed once in Rust for both backends.
//! - **Safety.** Every term is a bound parameter of `phraseto_tsquery`, which
//!   reads plain text, never tsquery syntax; only fixed SQL fragments are
//!   concatenated.
//!
//! Where the two still differ:
//! - The stemmers: Porter (SQLite) and Snowball English (PostgreSQL) agree on
//!   plurals and verb forms ("meetings", "meeting" → `meet`) but not
//!   everywhere. Porter conflates more: "news" finds "new", "generous" finds
//!   "general", "communication" finds "community" only on SQLite.
//! - Accents: unicode61 removes diacritics ("cafe" finds "café"); PostgreSQL
//!   keeps them (that would need the `unaccent` extension).
//! - Letters outside ASCII are recognised by the database's `LC_CTYPE`, which
//!   may not split or fold some scripts exactly as unicode61 does.
//! - Positions: a tsvector records word positions only up to 16,383, so
//!   multi-word terms (`don't`, `e-mail`) are not found beyond about the
//!   16,000th word of a media item's text (some two hours of speech); single
//!   words are found anywhere. A phrase could also match across the end of the
//!   title and the start of the description, which FTS5 never does.

use sealscribe_domain::media::{SearchField, SearchTerm};
use sqlx::{Postgres, QueryBuilder};

/// The text search configuration the migration creates.
const CONFIG: &str = "sealscribe_english";

/// The tsvector weight of a field, as `ts_filter` takes it.
fn weight(field: SearchField) -> &'static str {
    match field {
        SearchField::Title => "'{a}'",
        SearchField::Description => "'{b}'",
        SearchField::Transcript => "'{c}'",
    }
}

/// `q1 && q2 && …`: the tsquery matching all these terms.
fn push_all(sql: &mut QueryBuilder<Postgres>, terms: &[&SearchTerm]) {
    for (i, t) in terms.iter().enumerate() {
        if i > 0 {
            sql.push(" && ");
        }
        sql.push(format!("phraseto_tsquery('{CONFIG}', sealscribe_words("))
            .push_bind(t.term.clone())
            .push("))");
    }
}

/// Appends ` and <media matching every term>` to a query on `media` scoped to
/// `account`. No terms match nothing.
pub(crate) fn push_filter(sql: &mut QueryBuilder<Postgres>, account: &str, terms: &[SearchTerm]) {
    if terms.is_empty() {
        sql.push(" and false");
        return;
    }
    // Each term restricted to a speaker searches that speaker's words
    // (`media_speech`, one row per media item and speaker).
    for t in terms {
        let Some(speaker) = &t.speaker else { continue };
        sql.push(" and id in (select media_id from media_speech where account_id = ")
            .push_bind(account.to_owned())
            .push(" and speaker = ")
            .push_bind(speaker.clone())
            .push(" and document @@ (");
        push_all(sql, &[t]);
        sql.push("))");
    }
    let general: Vec<&SearchTerm> = terms.iter().filter(|t| t.speaker.is_none()).collect();
    if general.is_empty() {
        return;
    }
    sql.push(" and id in (select media_id from media_search where account_id = ")
        .push_bind(account.to_owned())
        .push(" and document @@ (");
    push_all(sql, &general);
    sql.push(")");
    for field in [
        SearchField::Title,
        SearchField::Description,
        SearchField::Transcript,
    ] {
        let restricted: Vec<&SearchTerm> = general
            .iter()
            .copied()
            .filter(|t| t.field == Some(field))
            .collect();
        if restricted.is_empty() {
            continue;
        }
        sql.push(format!(" and ts_filter(document, {}) @@ (", weight(field)));
        push_all(sql, &restricted);
        sql.push(")");
    }
    sql.push(")");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_bound_never_spliced() {
        let terms = [
            SearchTerm {
                field: None,
                speaker: None,
                term: "x') or true --".into(),
            },
            SearchTerm {
                field: Some(SearchField::Title),
                speaker: None,
                term: "frost".into(),
            },
            SearchTerm {
                field: None,
                speaker: Some("o'caller".into()),
                term: "refund".into(),
            },
        ];
        let mut sql = QueryBuilder::<Postgres>::new("select id from media where true");
        push_filter(&mut sql, "acct", &terms);
        let sql = sql.into_string();
        assert!(!sql.contains("or true"), "{sql}");
        assert!(!sql.contains("frost"), "{sql}");
        assert!(!sql.contains("caller") && !sql.contains("refund"), "{sql}");
        assert!(sql.contains("from media_speech"), "{sql}");
        assert!(sql.contains("ts_filter(document, '{a}')"), "{sql}");
    }
}
