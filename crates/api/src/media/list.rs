//! `GET /v3/media`: listing with cursors and dates, and full-text search.

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, NaiveDate, Utc};
use sealscribe_domain::codes;
use sealscribe_domain::extended::{ExtendedFilter, parse_filter};
use sealscribe_domain::media::{MediaQuery, SearchField, SearchTerm, speaker_key};
use serde::Deserialize;

use crate::auth::Caller;
use crate::schemas::{ErrorEnvelope, MediaList, SelfLinks};
use crate::{ApiError, AppState, Result};
use sealscribe_domain::document;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Params {
    query: Option<String>,
    external_id: Option<String>,
    after: Option<String>,
    before: Option<String>,
    on_or_after_date: Option<String>,
    on_or_before_date: Option<String>,
    sort_order: Option<String>,
    limit: Option<String>,
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request(codes::INVALID_REQUEST, message)
}

/// `YYYY-MM-DD` (the whole day) or an RFC 3339 instant.
fn parse_date(name: &str, value: &str, end_of_day: bool) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        bad(format!(
            "{name} must be a date (YYYY-MM-DD) or a time (YYYY-MM-DDThh:mm:ssZ), not {value:?}."
        ))
    })?;
    let t = if end_of_day {
        day.and_hms_milli_opt(23, 59, 59, 999)
    } else {
        day.and_hms_opt(0, 0, 0)
    };
    Ok(t.expect("valid time").and_utc())
}

/// Reads a v3 `query`: whitespace-separated terms that must all match
/// (implicit AND); `field:term` restricts a term to `title`, `description` or
/// `transcript`, and `Speaker:term` (any other name before the first colon)
/// to the words that speaker said — v3's own `title:Frost` style, with the
/// speaker names of `ingest` (`Caller:refund`), compared case-insensitively
/// ([`speaker_key`]). Terms keep only alphanumerics, `'` and `-`, and a term
/// left without any alphanumeric is dropped (the index could not match it),
/// so no search syntax is ever interpreted from user input: each database
/// backend translates the terms to its own index. `None` when no term is left.
pub fn search_terms(query: &str) -> Option<Vec<SearchTerm>> {
    let mut terms = Vec::new();
    for raw in query.split_whitespace() {
        let (field, speaker, term) = match raw.split_once(':') {
            Some((f, t)) => match SearchField::parse(f) {
                Some(field) => (Some(field), None, t),
                None => {
                    let speaker = speaker_key(f);
                    (None, (!speaker.is_empty()).then_some(speaker), t)
                }
            },
            None => (None, None, raw),
        };
        let term: String = term
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '-')
            .collect();
        if !term.chars().any(char::is_alphanumeric) {
            continue;
        }
        terms.push(SearchTerm {
            field,
            speaker,
            term,
        });
    }
    if terms.is_empty() { None } else { Some(terms) }
}

/// A page holds up to `limit` summaries, each with metadata of up to
/// [`MAX_METADATA_BYTES`](sealscribe_domain::configuration::MAX_METADATA_BYTES) bytes:
/// `limit` is refused when that
/// could exceed `max_list_bytes` (`--max-list-bytes`), so no listing can make
/// the server load and render more than that.
fn check_page(limit: u32, max_list_bytes: u64) -> Result<()> {
    let per_item = sealscribe_domain::configuration::MAX_METADATA_BYTES as u64;
    let most = (max_list_bytes / per_item).clamp(1, u64::from(MAX_LIMIT));
    if u64::from(limit) > most {
        return Err(ApiError::bad_request(
            codes::PAGE_TOO_LARGE,
            format!(
                "limit may be at most {most} on this server (pages are capped at {max_list_bytes} bytes \
                 of metadata); page through the rest with `after`."
            ),
        ));
    }
    Ok(())
}

/// Each term is bound as parameters of the database query: their number and
/// length are capped (`--max-search-terms`, `--max-search-term-chars`) so that a
/// query can neither overflow the database's parameter limit nor make the index
/// scan huge patterns.
fn check_terms(terms: &[SearchTerm], limits: &crate::Limits) -> Result<()> {
    if terms.len() > limits.max_search_terms {
        return Err(ApiError::bad_request(
            codes::TOO_MANY_SEARCH_TERMS,
            format!(
                "The query has {} terms; at most {} are allowed. Search with fewer, more specific words.",
                terms.len(),
                limits.max_search_terms
            ),
        ));
    }
    if let Some(long) = terms.iter().find(|t| {
        t.term.chars().count() > limits.max_search_term_chars
            || t.speaker
                .as_ref()
                .is_some_and(|s| s.chars().count() > limits.max_search_term_chars)
    }) {
        let start: String = long.term.chars().take(20).collect();
        return Err(ApiError::bad_request(
            codes::SEARCH_TERM_TOO_LONG,
            format!(
                "The search term starting {start:?} is longer than {} characters; no word is that long.",
                limits.max_search_term_chars
            ),
        ));
    }
    Ok(())
}

const KNOWN: &str = "Known: query, extendedFilter, externalId, after, before, onOrAfterDate, \
    onOrBeforeDate, sortOrder, limit.";

/// The query string: the repeatable `extendedFilter` conditions apart, every other
/// parameter at most once.
fn read_params(raw: &str) -> Result<(Params, Vec<ExtendedFilter>)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| bad(format!("Invalid query parameters: {e}. {KNOWN}")))?;
    let (filters, rest): (Vec<_>, Vec<_>) =
        pairs.into_iter().partition(|(k, _)| k == "extendedFilter");
    let rest = serde_urlencoded::to_string(&rest)
        .map_err(|e| bad(format!("Invalid query parameters: {e}. {KNOWN}")))?;
    let params: Params = serde_urlencoded::from_str(&rest)
        .map_err(|e| bad(format!("Invalid query parameters: {e}. {KNOWN}")))?;
    let filters = filters
        .iter()
        .map(|(_, v)| parse_filter(v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((params, filters))
}

/// `extendedFilter` conditions count with the query's terms against
/// `--max-search-terms` (each is bound as parameters of the database query, like a term),
/// and may only name fields the account made searchable: a filter on any other field could
/// only ever match nothing, which would hide a typo or a forgotten
/// `PUT /v3/definition/media/search`, so it is refused (80303).
async fn check_filters(
    state: &AppState,
    account: sealscribe_domain::AccountId,
    filters: &[ExtendedFilter],
    terms: usize,
) -> Result<()> {
    if filters.is_empty() {
        return Ok(());
    }
    let most = state.limits().max_search_terms;
    if filters.len() + terms > most {
        return Err(ApiError::bad_request(
            codes::TOO_MANY_SEARCH_TERMS,
            format!(
                "The query has {terms} terms and {} extendedFilter conditions; at most {most} \
                 together are allowed.",
                filters.len()
            ),
        ));
    }
    let searchable = sealscribe_store::searchable_fields(state.db(), account).await?;
    if let Some(f) = filters.iter().find(|f| !searchable.contains(&f.field)) {
        let now = if searchable.is_empty() {
            "no field is searchable yet".to_owned()
        } else {
            format!("the searchable fields are {}", searchable.join(", "))
        };
        return Err(ApiError::bad_request(
            codes::FIELD_NOT_SEARCHABLE,
            format!(
                "extendedFilter names {:?}, which is not searchable ({now}). Make it searchable \
                 with PUT /v3/definition/media/search; only media processed (or whose metadata \
                 is replaced) after that are found.",
                f.field
            ),
        ));
    }
    Ok(())
}

/// `GET /v3/media`: the caller's media, newest first unless `sortOrder=asc`.
#[utoipa::path(
    get,
    path = "/v3/media",
    tag = "media",
    operation_id = "listMedia",
    params(
        ("query" = Option<String>, Query, description = "Full-text search over transcript, title and description: \
            whitespace-separated terms that must all match; `title:`, `description:` or `transcript:` restricts a term to that field, \
            any other name before a colon to the words of that speaker (`Caller:refund`, case-insensitive; speaker names as `ingest` set them). \
            Encrypted media are never matched."),
        ("extendedFilter" = Option<Vec<String>>, Query, explode = true, description = "Repeatable, all must hold: \
            `Name:Value` (or `Name;Value`), URL-encoded (`customerId%3A10101`): only media whose `metadata.extended` field \
            `Name` (a dot-separated path, with or without `extended.`) has exactly this value (its string form: numbers as JSON writes them, \
            any element of an array). The field must be searchable (`PUT /v3/definition/media/search`), and only media indexed after that \
            are found. Encrypted media are never matched."),
        ("externalId" = Option<String>, Query, description = "Only media with this `metadata.externalId`."),
        ("after" = Option<String>, Query, format = Uuid, description = "Cursor: only media after this `mediaId` in sort order."),
        ("before" = Option<String>, Query, format = Uuid, description = "Cursor: only media before this `mediaId` in sort order."),
        ("onOrAfterDate" = Option<String>, Query, description = "`YYYY-MM-DD` (from the start of that day, UTC) or an RFC 3339 time."),
        ("onOrBeforeDate" = Option<String>, Query, description = "`YYYY-MM-DD` (to the end of that day, UTC) or an RFC 3339 time."),
        ("sortOrder" = Option<String>, Query, pattern = "^([aA][sS][cC]|[dD][eE][sS][cC])$", description = "`asc` or `desc` (default) by creation time."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "At most this many media (default 100)."),
    ),
    responses(
        (status = 200, description = "The matching media.", body = MediaList),
        (status = 400, description = "An unknown or malformed query parameter or `extendedFilter` (10001), too many search terms \
            and `extendedFilter` conditions (10806), a search term too long (10807), a `limit` over what the server's page cap allows (10808), \
            or an `extendedFilter` on a field that is not searchable (80303).", body = ErrorEnvelope),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<MediaList>> {
    let (params, filters) = read_params(raw.as_deref().unwrap_or(""))?;
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                bad(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}, not {l:?}."
                ))
            })?,
    };
    check_page(limit, state.limits().max_list_bytes)?;
    let ascending = match params
        .sort_order
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(other) => {
            return Err(bad(format!(
                "sortOrder must be asc or desc, not {other:?}."
            )));
        }
    };
    let cursor = |name: &str, v: &Option<String>| -> Result<Option<sealscribe_domain::MediaId>> {
        v.as_deref()
            .map(|v| {
                v.parse()
                    .map_err(|_| bad(format!("{name} must be a mediaId, not {v:?}.")))
            })
            .transpose()
    };
    let text = params.query.as_deref().and_then(search_terms);
    if let Some(terms) = &text {
        check_terms(terms, state.limits())?;
    }
    check_filters(
        &state,
        caller.account,
        &filters,
        text.as_ref().map_or(0, Vec::len),
    )
    .await?;
    if params
        .query
        .as_deref()
        .is_some_and(|q| !q.trim().is_empty())
        && text.is_none()
    {
        // A query with no searchable term matches nothing (rather than everything).
        return Ok(Json(MediaList {
            links: SelfLinks::to("/v3/media"),
            media: Vec::new(),
        }));
    }
    let query = MediaQuery {
        text,
        extended: filters,
        external_id: params.external_id,
        after: cursor("after", &params.after)?,
        before: cursor("before", &params.before)?,
        on_or_after: params
            .on_or_after_date
            .as_deref()
            .map(|d| parse_date("onOrAfterDate", d, false))
            .transpose()?,
        on_or_before: params
            .on_or_before_date
            .as_deref()
            .map(|d| parse_date("onOrBeforeDate", d, true))
            .transpose()?,
        ascending,
        limit,
    };
    let media = state.db().list_media(caller.account, &query).await?;
    Ok(Json(MediaList {
        links: SelfLinks::to("/v3/media"),
        media: media.iter().map(document::summary).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::{read_params, search_terms};
    use sealscribe_domain::media::{SearchField, SearchTerm};

    fn any(term: &str) -> SearchTerm {
        SearchTerm {
            field: None,
            speaker: None,
            term: term.into(),
        }
    }

    fn said(speaker: &str, term: &str) -> SearchTerm {
        SearchTerm {
            field: None,
            speaker: Some(speaker.into()),
            term: term.into(),
        }
    }

    #[test]
    fn queries_are_plain_terms() {
        assert_eq!(
            search_terms("hello world"),
            Some(vec![any("hello"), any("world")])
        );
        assert_eq!(
            search_terms("title:Frost"),
            Some(vec![SearchTerm {
                field: Some(SearchField::Title),
                speaker: None,
                term: "Frost".into()
            }])
        );
        // Not a field: a speaker, named case-insensitively.
        assert_eq!(
            search_terms("Caller:refund card agent:Sorry"),
            Some(vec![
                said("caller", "refund"),
                any("card"),
                said("agent", "Sorry")
            ])
        );
        // Only the first colon separates; no name is no restriction, and control
        // characters are no part of one.
        assert_eq!(
            search_terms("Ágent:a:b :card \u{0}:x C\u{0}aller:y"),
            Some(vec![
                said("ágent", "ab"),
                any("card"),
                any("x"),
                said("caller", "y")
            ])
        );
        // A speaker with nothing searchable said is no term.
        assert_eq!(search_terms("Caller:--"), None);
        // Query syntax of any index is just dropped.
        assert_eq!(
            search_terms("a\" OR * NEAR( don't e-mail"),
            Some(vec![
                any("a"),
                any("OR"),
                any("NEAR"),
                any("don't"),
                any("e-mail")
            ])
        );
        assert_eq!(search_terms("  "), None);
        assert_eq!(search_terms("***"), None);
        // Nothing an index could match.
        assert_eq!(search_terms("- ' title:--"), None);
        assert_eq!(search_terms("meeting -"), Some(vec![any("meeting")]));
    }

    #[test]
    fn extended_filters_repeat_other_parameters_do_not() {
        let (params, filters) = read_params(
            "extendedFilter=customerId%3A10101&limit=5&extendedFilter=agent.name;A%3Ab&query=x",
        )
        .unwrap();
        assert_eq!(params.limit.as_deref(), Some("5"));
        assert_eq!(params.query.as_deref(), Some("x"));
        let got: Vec<(&str, &str)> = filters
            .iter()
            .map(|f| (f.field.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("extended.customerId", "10101"),
                ("extended.agent.name", "A:b")
            ]
        );
        assert!(read_params("").unwrap().1.is_empty());
        for bad in [
            "limit=1&limit=2",
            "extendedFilter=nothing",
            "extendedfilter=a:b",
        ] {
            let e = read_params(bad).err().expect(bad);
            assert_eq!(e.code(), sealscribe_domain::codes::INVALID_REQUEST, "{bad}");
        }
    }
}
