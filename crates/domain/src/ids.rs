//! Typed identifiers. Every public identifier is a UUID, as in VoiceBase v3; the
//! newtypes stop an account id from being passed where a key id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) identifier.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// An account: the unit of tenancy. Every resource belongs to exactly one.
    AccountId
);
uuid_id!(
    /// A customer's uploaded OpenPGP public key (`publicKeyId` in the v3 API).
    PublicKeyId
);
uuid_id!(
    /// A bearer token / API key (`VbKey.id` in `/v3/profile/keys`).
    KeyId
);
uuid_id!(
    /// A media item (`mediaId` in the v3 API).
    MediaId
);
