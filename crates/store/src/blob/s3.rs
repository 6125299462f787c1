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
    /// `https://BUCKET.s3.REGION.amazonaws.com` or `ENDPOINT/BUCKET` (path-style).
    bucket_url: String,
    region: String,
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

    /// The bucket's versioning status (`Enabled`, `Suspended`), `None` if
    /// versioning was never turned on: a SigV4-signed `GET ?versioning` with
    /// the store's own credentials.
    pub async fn versioning(&self) -> Result<Option<String>, StoreError> {
        let credential = self
            .s3
            .credentials()
            .get_credential()
            .await
            .map_err(store_error)?;
        let url = url::Url::parse(&format!("{}?versioning", self.bucket_url))
            .map_err(|e| StoreError::Config(format!("bucket URL: {e}")))?;
        let headers = sigv4_headers(
            "GET",
            &url,
            b"",
            &self.region,
            &credential.key_id,
            &credential.secret_key,
            credential.token.as_deref(),
            chrono::Utc::now(),
        );
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(IDLE_TIMEOUT)
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut request = client.get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("GET ?versioning: {e}")))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| StoreError::Unavailable(format!("GET ?versioning: {e}")))?;
        if !status.is_success() {
            return Err(StoreError::Unavailable(format!(
                "GET ?versioning answered {status}"
            )));
        }
        Ok(versioning_status(&body))
    }
}

/// `Status` of a `VersioningConfiguration` document, if any.
pub(super) fn versioning_status(xml: &str) -> Option<String> {
    let start = xml.find("<Status>")? + "<Status>".len();
    let end = start + xml[start..].find("</Status>")?;
    Some(xml[start..end].trim().to_owned()).filter(|s| !s.is_empty())
}

/// The headers of a SigV4-signed `METHOD url` with `payload` (service `s3`).
#[allow(clippy::too_many_arguments)]
pub(super) fn sigv4_headers(
    method: &str,
    url: &url::Url,
    payload: &[u8],
    region: &str,
    key_id: &str,
    secret: &str,
    token: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(&'static str, String)> {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    fn hmac(key: &[u8], data: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
    let payload_sha256 = hex::encode(Sha256::digest(payload));
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    // The query's parameters, each `name=value`, sorted (`versioning` → `versioning=`).
    let mut query: Vec<String> = url
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.contains('=') {
                p.to_owned()
            } else {
                format!("{p}=")
            }
        })
        .collect();
    query.sort();
    let mut headers: Vec<(&'static str, String)> = vec![
        ("host", host),
        ("x-amz-content-sha256", payload_sha256.clone()),
        ("x-amz-date", amz_date.clone()),
    ];
    if let Some(token) = token {
        headers.push(("x-amz-security-token", token.to_owned()));
    }
    let signed: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let path = if url.path().is_empty() {
        "/"
    } else {
        url.path()
    };
    let canonical = format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{signed}\n{payload_sha256}",
        query.join("&")
    );
    let scope = format!("{date}/{region}/s3/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = hmac(format!("AWS4{secret}").as_bytes(), date);
    let key = hmac(&key, region);
    let key = hmac(&key, "s3");
    let key = hmac(&key, "aws4_request");
    let signature = hex::encode(hmac(&key, &to_sign));
    headers.retain(|(n, _)| *n != "host");
    headers.push((
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={signed}, \
             Signature={signature}"
        ),
    ));
    headers
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
    let bucket_url = match &endpoint {
        Some(endpoint) => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
    };
    Ok(Opened {
        store,
        description,
        signing: Signing {
            s3,
            prefix,
            bucket_url,
            region,
        },
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

#[cfg(test)]
mod versioning_tests {
    use super::*;

    #[test]
    fn the_versioning_status_is_read_from_the_document() {
        let doc = |inner: &str| {
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>"#
            )
        };
        assert_eq!(
            versioning_status(&doc("<Status>Enabled</Status>")).as_deref(),
            Some("Enabled")
        );
        assert_eq!(
            versioning_status(&doc(
                "<Status>Suspended</Status><MfaDelete>Disabled</MfaDelete>"
            ))
            .as_deref(),
            Some("Suspended")
        );
        // Never enabled: an empty configuration.
        assert_eq!(versioning_status(&doc("")), None);
        assert_eq!(
            versioning_status(r#"<VersioningConfiguration xmlns="x"/>"#),
            None
        );
    }

    /// AWS's documented example (S3 API reference, "Signature Calculations
    /// for the Authorization Header", GET Bucket Lifecycle).
    #[test]
    fn sigv4_matches_the_aws_example() {
        let url = url::Url::parse("https://examplebucket.s3.amazonaws.com/?lifecycle").unwrap();
        use chrono::TimeZone as _;
        let now = chrono::Utc.with_ymd_and_hms(2013, 5, 24, 0, 0, 0).unwrap();
        let headers = sigv4_headers(
            "GET",
            &url,
            b"",
            "us-east-1",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            now,
        );
        let auth = &headers
            .iter()
            .find(|(n, _)| *n == "authorization")
            .unwrap()
            .1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
             Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        );
    }

    /// Against the S3 server of `scripts/services.sh` (SeaweedFS): a fresh
    /// bucket reports no versioning, and `Enabled` once it is turned on.
    /// The signature is checked by a real server here.
    #[tokio::test]
    async fn the_versioning_of_a_real_bucket_is_read() {
        let Ok(endpoint) = std::env::var("SEALSCRIBE_TEST_S3") else {
            assert!(
                std::env::var_os("SEALSCRIBE_REQUIRE_SERVICES").is_none(),
                "SEALSCRIBE_TEST_S3 is not set"
            );
            eprintln!("SKIPPED: SEALSCRIBE_TEST_S3 is not set (scripts/services.sh start)");
            return;
        };
        let bucket = format!("versioning-{}", uuid_like());
        let url = url::Url::parse(&format!("s3://{bucket}")).unwrap();
        let settings = S3Settings {
            endpoint: Some(endpoint.clone()),
            region: None,
        };
        let signing = open(&url, &settings).unwrap().signing;
        let send = |query: &'static str, body: &'static [u8]| {
            let (url, region) = (
                url::Url::parse(&format!("{}{query}", signing.bucket_url)).unwrap(),
                signing.region.clone(),
            );
            async move {
                let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap();
                let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap();
                let headers = sigv4_headers(
                    "PUT",
                    &url,
                    body,
                    &region,
                    &key,
                    &secret,
                    None,
                    chrono::Utc::now(),
                );
                let mut req = reqwest::Client::new().put(url).body(body);
                for (n, v) in headers {
                    req = req.header(n, v);
                }
                let resp = req.send().await.unwrap();
                assert!(resp.status().is_success(), "PUT {query}: {}", resp.status());
            }
        };
        send("", b"").await;
        assert_eq!(signing.versioning().await.unwrap(), None);
        send(
            "?versioning",
            b"<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
              <Status>Enabled</Status></VersioningConfiguration>",
        )
        .await;
        assert_eq!(
            signing.versioning().await.unwrap().as_deref(),
            Some("Enabled")
        );

        // What the operator sees at start: one warning line.
        let store =
            crate::BlobStore::open_with(&format!("s3://{bucket}/prefix"), &settings).unwrap();
        let logged = Logged::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logged.clone())
            .with_ansi(false)
            .finish();
        {
            let _guard = tracing::subscriber::set_default(subscriber);
            store.warn_if_versioned().await;
        }
        let text = String::from_utf8(logged.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("WARN") && text.contains("versioning Enabled"),
            "{text}"
        );
    }

    /// Log lines, kept for the test to read.
    #[derive(Clone, Default)]
    struct Logged(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Logged {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logged {
        type Writer = Logged;
        fn make_writer(&'a self) -> Logged {
            self.clone()
        }
    }

    fn uuid_like() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{nanos:x}-{}", std::process::id())
    }
}
