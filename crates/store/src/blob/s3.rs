//! The S3 backend: `s3://BUCKET[/PREFIX]` on AWS or any S3-compatible endpoint.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::signer::{Method, Signer};
use object_store::{BackoffConfig, ClientConfigKey, ClientOptions, ObjectStore, RetryConfig};

use super::store_error;
use crate::StoreError;

/// Time allowed to establish a connection (AWS's SDKs use 3.1 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time allowed for a request to be answered (its body sent, the response
/// headers received) and, once streaming, between two pieces of a response.
/// There is no deadline on a whole transfer, which may legitimately be long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries of a failed request (5xx, connection error, timeout).
const MAX_RETRIES: usize = 3;
/// No retry is started after this long since the first attempt.
const RETRY_BUDGET: Duration = Duration::from_secs(15);
/// SigV4's limit on a pre-signed URL's life.
const MAX_PRESIGN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// S3 settings that override the `AWS_…` environment variables and the
/// `s3://` URL's query. The default takes everything from the environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// An S3-compatible endpoint such as `http://127.0.0.1:8333` (SeaweedFS,
    /// MinIO, …), addressed path-style; `None` for AWS itself (or
    /// `AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    /// The bucket's region; `None` for `AWS_REGION`/`AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: Option<String>,
}

/// An opened S3 store.
pub(super) struct Opened {
    pub store: Arc<dyn ObjectStore>,
    pub description: String,
    pub signing: Signing,
}

/// Pre-signing of keys, which lives outside the prefixed store.
#[derive(Clone)]
pub(super) struct Signing {
    s3: Arc<AmazonS3>,
    prefix: Path,
}

impl Signing {
    pub async fn get(&self, key: &Path, ttl: Duration) -> Result<url::Url, StoreError> {
        if ttl.is_zero() || ttl > MAX_PRESIGN_TTL {
            return Err(StoreError::Config(format!(
                "a pre-signed URL lives between 1 s and 7 days, not {} s",
                ttl.as_secs()
            )));
        }
        let full: Path = self.prefix.parts().chain(key.parts()).collect();
        self.s3
            .signed_url(Method::GET, &full, ttl)
            .await
            .map_err(store_error)
    }
}

const USAGE: &str = "expected s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]";

/// Opens `s3://BUCKET[/PREFIX]`.
pub(super) fn open(url: &url::Url, settings: &S3Settings) -> Result<Opened, StoreError> {
    let config = StoreError::Config;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config(format!(
            "the blob store URL must not carry credentials: set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY instead ({USAGE})"
        )));
    }
    if url.fragment().is_some() {
        return Err(config(format!(
            "unexpected '#…' in the blob store URL ({USAGE})"
        )));
    }
    let bucket = url.host_str().unwrap_or_default().to_owned();
    if bucket.is_empty() {
        return Err(config(format!(
            "the blob store URL names no bucket ({USAGE})"
        )));
    }
    let prefix = url.path().trim_matches('/');
    let prefix = Path::from_url_path(prefix).map_err(|e| {
        config(format!(
            "invalid prefix {prefix:?} in the blob store URL: {e}"
        ))
    })?;

    let (mut endpoint, mut region) = (None, None);
    for (name, value) in url.query_pairs() {
        match &*name {
            "endpoint" => endpoint = Some(value.into_owned()),
            "region" => region = Some(value.into_owned()),
            other => {
                return Err(config(format!(
                    "unknown blob store URL parameter {other:?}: only endpoint and region are \
                     accepted ({USAGE})"
                )));
            }
        }
    }
    let endpoint = settings.endpoint.clone().or(endpoint);
    let region = settings.region.clone().or(region);

    let mut builder = AmazonS3Builder::from_env().with_bucket_name(&bucket);
    if let Some(endpoint) = &endpoint {
        let parsed = url::Url::parse(endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if parsed.is_none_or(|u| !u.username().is_empty() || u.password().is_some()) {
            return Err(config(format!(
                "invalid S3 endpoint {:?}: expected http(s)://HOST[:PORT], without credentials \
                 (those go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                redact(endpoint)
            )));
        }
        // Both keys, so the setting also beats AWS_ENDPOINT_URL_S3.
        builder = builder
            .with_config(AmazonS3ConfigKey::Endpoint, endpoint)
            .with_config(AmazonS3ConfigKey::S3Endpoint, endpoint);
    }
    if let Some(region) = &region {
        builder = builder.with_region(region);
    }
    let endpoint = builder
        .get_config_value(&AmazonS3ConfigKey::S3Endpoint)
        .or_else(|| builder.get_config_value(&AmazonS3ConfigKey::Endpoint));
    if endpoint.is_some() {
        // Custom endpoints rarely have per-bucket DNS names: path-style
        // (`http://host/bucket/key`) unless the operator asked otherwise.
        if std::env::var_os("AWS_VIRTUAL_HOSTED_STYLE_REQUEST").is_none() {
            builder = builder.with_virtual_hosted_style_request(false);
        }
    }
    check_credentials(&builder)?;
    let region = builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .unwrap_or_else(|| "us-east-1".into());

    builder = builder
        .with_client_options(client_options(endpoint.as_deref()))
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_BUDGET,
        });
    let s3 = Arc::new(builder.build().map_err(|e| {
        config(format!(
            "cannot use S3 bucket {bucket:?}: {e} ({USAGE}; credentials from AWS_ACCESS_KEY_ID \
             and AWS_SECRET_ACCESS_KEY)"
        ))
    })?);

    let mut description = format!("s3://{bucket}");
    if !prefix.as_ref().is_empty() {
        description.push('/');
        description.push_str(prefix.as_ref());
    }
    match &endpoint {
        Some(endpoint) => description.push_str(&format!(" at {}", redact(endpoint))),
        None => description.push_str(&format!(" in {region}")),
    }

    let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
        Arc::clone(&s3) as _
    } else {
        Arc::new(PrefixStore::new(Arc::clone(&s3), prefix.clone()))
    };
    Ok(Opened {
        store,
        description,
        signing: Signing { s3, prefix },
    })
}

/// Refuses to start without a usable source of credentials. Without static
/// keys `object_store` would otherwise fall back to the EC2 instance metadata
/// service, and off EC2 every request would hang on it until timing out.
fn check_credentials(builder: &AmazonS3Builder) -> Result<(), StoreError> {
    let set = |key: AmazonS3ConfigKey| builder.get_config_value(&key).is_some();
    let key_id = set(AmazonS3ConfigKey::AccessKeyId);
    let secret = set(AmazonS3ConfigKey::SecretAccessKey);
    match (key_id, secret) {
        (true, true) => return Ok(()),
        (true, false) => {
            return Err(StoreError::Config(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into(),
            ));
        }
        (false, true) => {
            return Err(StoreError::Config(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into(),
            ));
        }
        (false, false) => {}
    }
    let anonymous = builder
        .get_config_value(&AmazonS3ConfigKey::SkipSignature)
        .is_some_and(|v| v == "true");
    let web_identity =
        set(AmazonS3ConfigKey::WebIdentityTokenFile) && set(AmazonS3ConfigKey::RoleArn);
    let container = set(AmazonS3ConfigKey::ContainerCredentialsRelativeUri)
        || (set(AmazonS3ConfigKey::ContainerCredentialsFullUri)
            && set(AmazonS3ConfigKey::ContainerAuthorizationTokenFile));
    // Setting the metadata endpoint explicitly opts into instance profiles.
    let instance = set(AmazonS3ConfigKey::MetadataEndpoint);
    if anonymous || web_identity || container || instance {
        return Ok(());
    }
    Err(StoreError::Config(
        "s3://BUCKET[/PREFIX] needs credentials: set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary ones), or \
         AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN; on EC2, set \
         AWS_METADATA_ENDPOINT=http://169.254.169.254 to use the instance profile"
            .into(),
    ))
}

/// HTTP client settings: sealscribe's fail-fast timeouts, then any client
/// option given as an `AWS_…` variable (`AWS_PROXY_URL`, `AWS_TIMEOUT`, …), as
/// `AmazonS3Builder::from_env` would have read them.
fn client_options(endpoint: Option<&str>) -> ClientOptions {
    let mut options = ClientOptions::new()
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_read_timeout(IDLE_TIMEOUT)
        .with_timeout_disabled();
    for (name, value) in std::env::vars() {
        let name = name.to_ascii_lowercase();
        let Some(name) = name.strip_prefix("aws_") else {
            continue;
        };
        if let Ok(key) = name.parse::<ClientConfigKey>() {
            options = options.with_config(key, value);
        }
    }
    if endpoint.is_some_and(|e| e.starts_with("http://")) {
        options = options.with_allow_http(true);
    }
    options
}

/// An endpoint without any user information or query, for messages.
fn redact(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.as_str().trim_end_matches('/').to_owned()
        }
        Err(_) => "<unparseable URL>".into(),
    }
}

/// Whether `e` says the bucket itself is missing (S3 answers 404 for it too).
pub(super) fn is_missing_bucket(e: &object_store::Error) -> bool {
    e.to_string().contains("<Code>NoSuchBucket</Code>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_endpoints() {
        assert_eq!(
            redact("http://user:pw@127.0.0.1:8333/?x=1"),
            "http://127.0.0.1:8333"
        );
        assert_eq!(redact("not a url"), "<unparseable URL>");
    }
}
