//! `client media list`: the account's media, newest first, optionally searched.

use reqwest::Method;

use crate::api::Api;
use crate::keys::{print_json, str_of};
use crate::{Error, Ui};

pub(super) async fn run(
    api: &Api,
    ui: &Ui,
    query: Option<String>,
    limit: Option<u32>,
) -> Result<(), Error> {
    let mut url = api.url("/v3/media");
    if query.is_some() || limit.is_some() {
        let mut q = url.query_pairs_mut();
        if let Some(query) = &query {
            q.append_pair("query", query);
        }
        if let Some(limit) = limit {
            q.append_pair("limit", &limit.to_string());
        }
    }
    let answer = api.json(api.request_url(Method::GET, url)).await?;
    if ui.json {
        print_json(&answer);
    } else {
        for m in answer["media"].as_array().into_iter().flatten() {
            let title = m["metadata"]["title"].as_str().unwrap_or("");
            outln!(
                "{}  {:<8}  {}  {title}",
                str_of(m, "mediaId"),
                str_of(m, "status"),
                str_of(m, "dateCreated"),
            );
        }
    }
    Ok(())
}
