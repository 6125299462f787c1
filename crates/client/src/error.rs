//! The client's errors, each with its exit code.

/// Why a client command failed. `Display` is the message shown after `error: `.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Something on this machine: a file, the key, the passphrase, decryption. Exit 1.
    #[error("{0}")]
    Local(String),
    /// The API answered with an error (its v3 envelope, where there is one). Exit 3 for
    /// 4xx, 4 for anything else.
    #[error("{status}{}: {message}{}",
        .code.map(|c| format!(" (code {c})")).unwrap_or_default(),
        .reference.as_ref().map(|r| format!(" [reference {r}]")).unwrap_or_default())]
    Api {
        /// The HTTP status.
        status: u16,
        /// The v3 error code, if the body was an error envelope.
        code: Option<u64>,
        /// The API's message (or the HTTP reason).
        message: String,
        /// The envelope's `reference` (what the operator finds in the server log).
        reference: Option<String>,
    },
    /// No answer: connection refused, DNS, TLS, timeout, cut connection. Exit 4.
    #[error("cannot reach the sealscribe API at {url}: {reason}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// What happened.
        reason: String,
    },
    /// `--secret-key` was given, but what came back (`media results`) or in (`decrypt`) is
    /// not an encrypted OpenPGP message. Nothing of it was printed. Exit 7.
    #[error("NOT ENCRYPTED: {0}")]
    NotEncrypted(String),
    /// The message is also encrypted to recipients that are not in the secret key file(s),
    /// and `--allow-extra-recipients` was not given. Nothing was decrypted. Exit 8.
    #[error("{0}")]
    ExtraRecipients(String),
    /// `verify-callback`: the request does not verify. Exit 9.
    #[error("the callback does not verify: {0}")]
    BadSignature(String),
    /// `media wait`: the media failed. Exit 5.
    #[error("media {id} failed: {reason}")]
    MediaFailed {
        /// The media id.
        id: String,
        /// The failure as the API reports it.
        reason: String,
    },
    /// `media wait`: the timeout elapsed. Exit 6.
    #[error(
        "media {id} is still {status} after {secs} s (--timeout); run `media wait` again to keep waiting"
    )]
    WaitTimeout {
        /// The media id.
        id: String,
        /// Its last status.
        status: String,
        /// The timeout.
        secs: u64,
    },
}

impl Error {
    /// The process exit code for this error (see [`crate::EXIT_CODES`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Local(_) => 1,
            Error::Api { status, .. } if (400..500).contains(status) => 3,
            Error::Api { .. } | Error::Unreachable { .. } => 4,
            Error::MediaFailed { .. } => 5,
            Error::WaitTimeout { .. } => 6,
            Error::NotEncrypted(_) => 7,
            Error::ExtraRecipients(_) => 8,
            Error::BadSignature(_) => 9,
        }
    }

    pub(crate) fn local(text: impl Into<String>) -> Self {
        Error::Local(text.into())
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn api_errors_show_status_code_and_reference() {
        let e = Error::Api {
            status: 404,
            code: Some(10205),
            message: "Media x not found.".into(),
            reference: Some("r-1".into()),
        };
        assert_eq!(
            e.to_string(),
            "404 (code 10205): Media x not found. [reference r-1]"
        );
        assert_eq!(e.exit_code(), 3);
        let e = Error::Api {
            status: 503,
            code: None,
            message: "Service Unavailable".into(),
            reference: None,
        };
        assert_eq!(e.to_string(), "503: Service Unavailable");
        assert_eq!(e.exit_code(), 4);
    }
}
