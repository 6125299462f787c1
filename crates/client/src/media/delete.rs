//! `client media delete ID`: the media and everything made from it.

use reqwest::Method;

use crate::api::Api;
use crate::{Error, Ui};

pub(super) async fn run(api: &Api, ui: &Ui, id: &str) -> Result<(), Error> {
    api.send(api.request(Method::DELETE, &format!("/v3/media/{id}")))
        .await?;
    ui.note(format!("deleted media {id}"));
    Ok(())
}
