//! `client media results ID --secret-key FILE`: the encrypted media document, decrypted
//! on this machine.

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

use super::write_stdout;
use crate::api::Api;
use crate::keys::print_json;
use crate::{Error, SecretKeyArgs, Ui, secret};

pub(super) async fn run(api: &Api, ui: &Ui, id: &str, key: &SecretKeyArgs) -> Result<(), Error> {
    // The key first: a bad key file fails before any request.
    let (key, passphrase) = secret::load(key)?;
    let resp = api
        .send(
            api.request(Method::GET, &format!("/v3/media/{id}"))
                .header(ACCEPT, "application/pgp-encrypted"),
        )
        .await?;
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp.bytes().await.map_err(|e| api.unreachable(&e))?;
    let plain = if content_type.starts_with("application/json") {
        ui.note(format!(
            "media {id} is not encrypted: this is its document as the API serves it"
        ));
        zeroize::Zeroizing::new(body.to_vec())
    } else {
        secret::decrypt_bytes(key, passphrase, body).await?
    };
    match serde_json::from_slice::<Value>(&plain) {
        Ok(v) if !ui.json => print_json(&v),
        Ok(v) => println!("{v}"),
        Err(_) => write_stdout(&plain)?,
    }
    Ok(())
}
