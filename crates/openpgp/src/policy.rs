//! The validity policy: which certificates sealscribe encrypts to, and to which of their keys.
//!
//! rPGP parses certificates but has no policy layer (unlike sequoia's `StandardPolicy`), so
//! the rules live here. They follow RFC 9580 §5.2.3 and §10.1 and what GnuPG 2.2 does:
//!
//! - The primary key must be v4 (checked in `input`), RSA 2048–4096 bits or legacy EdDSA on
//!   Ed25519 — what `gpg --quick-gen-key` makes ("RSA and RSA", `future-default`).
//! - **Every self-signature must verify.** A certificate with a self-signature that does not
//!   verify was damaged or tampered with; rejecting it is safer than guessing which part is
//!   genuine. Third-party certifications cannot be checked without the signers' keys and
//!   are ignored. (So are revocations by designated revokers.)
//! - A self-signature is in effect at `now` when it was created no later than `now` (plus
//!   [`CLOCK_SKEW`] for slightly fast clocks) and has not expired.
//! - The primary key is revoked if it carries a key revocation signature in effect; its
//!   expiry and key flags come from its newest self-signature in effect — a direct-key
//!   signature or the certification of a user ID that is not revoked (`gpg
//!   --quick-set-expire` re-signs every user ID, so the newest is the current one).
//! - A subkey is used for encryption when its newest binding signature in effect has an
//!   encryption key flag (or, lacking key flags, its algorithm can only encrypt), it is not
//!   revoked and not expired. Messages are encrypted to **all** such subkeys — and to the
//!   primary key of an old single-key RSA certificate whose self-signature allows encryption.
//! - A currently valid encryption key must be RSA 2048–4096 or ECDH on Curve25519 (cv25519);
//!   anything else rejects the whole certificate, since the customer could otherwise be
//!   decrypting with a key sealscribe silently skipped.

use chrono::{DateTime, TimeDelta, Utc};
use pgp::{
    composed::{Deserializable as _, SignedPublicKey},
    crypto::public_key::PublicKeyAlgorithm,
    packet::{RevocationCode, Signature, SignatureType, SubpacketData},
    ser::Serialize as _,
    types::{EddsaLegacyPublicParams, KeyDetails, PublicParams, Tag},
};

use crate::{
    algorithms::{algorithm_name, check_rsa_bits, unsupported_why},
    error::KeyError,
    input,
    types::{KeyInfo, SubkeyInfo},
};

/// Tolerance for signatures and keys made on a computer whose clock is slightly ahead.
pub(crate) const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(10);
/// A warning is given when the key can be encrypted to for less than this.
pub(crate) const EXPIRY_WARNING: TimeDelta = TimeDelta::days(30);

/// A key that messages are encrypted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The primary key (old single-key RSA certificates).
    Primary,
    /// `public_subkeys[i]`.
    Subkey(usize),
}

/// An encryption key with its expiry (already capped at the primary key's expiry).
#[derive(Debug, Clone)]
pub(crate) struct EncKey {
    pub target: Target,
    pub expires: Option<DateTime<Utc>>,
}

/// A certificate that passed every check.
#[derive(Debug, Clone)]
pub(crate) struct Validated {
    pub key: SignedPublicKey,
    pub info: KeyInfo,
    pub enc_keys: Vec<EncKey>,
}

/// Parses and checks an upload (armored or binary). See the module docs for the rules.
pub(crate) fn validate(bytes: &[u8], now: DateTime<Utc>) -> Result<Validated, KeyError> {
    let binary = input::decode(bytes)?;
    let packets = input::key_packets(&binary)?;
    drop(binary);
    let key = SignedPublicKey::from_bytes(&packets[..]).map_err(|_| KeyError::Malformed {
        reason: "a key, user ID or signature packet is invalid".into(),
    })?;
    drop(packets);
    evaluate(key, now)
}

pub(crate) fn fingerprint_hex(key: &impl KeyDetails) -> String {
    hex::encode_upper(key.fingerprint().as_bytes())
}

fn to_datetime(secs: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::from(secs), 0).unwrap_or_default()
}

/// `("RSA", 2048)`, `("EdDSA", 255)`, `("ECDH", 255)` …
fn describe(alg: PublicKeyAlgorithm, params: &PublicParams) -> (String, u32) {
    let name = algorithm_name(u8::from(alg));
    let bits = match params {
        PublicParams::RSA(p) => p
            .to_bytes()
            .ok()
            .and_then(|b| Some(u32::from(u16::from_be_bytes([*b.first()?, *b.get(1)?]))))
            .unwrap_or(0),
        PublicParams::ECDH(p) => u32::from(p.curve().nbits()),
        PublicParams::EdDSALegacy(_) | PublicParams::Ed25519(_) | PublicParams::X25519(_) => 255,
        PublicParams::X448(_) => 448,
        PublicParams::Ed448(_) => 456,
        _ => 0,
    };
    (name, bits)
}

fn created(sig: &Signature) -> Option<DateTime<Utc>> {
    sig.created().map(|t| to_datetime(t.as_secs()))
}

/// Created no later than `now` (+ skew) and not expired at `now`.
fn in_effect(sig: &Signature, now: DateTime<Utc>) -> bool {
    let Some(c) = created(sig) else {
        return false;
    };
    if c > now + CLOCK_SKEW {
        return false;
    }
    match sig.signature_expiration_time().map(|d| d.as_secs()) {
        Some(secs) if secs > 0 => c + TimeDelta::seconds(i64::from(secs)) > now,
        _ => true,
    }
}

/// `created + key expiration time` of a binding signature, if it sets one.
fn key_expiry(key_created: DateTime<Utc>, binding: &Signature) -> Option<DateTime<Utc>> {
    match binding.key_expiration_time().map(|d| d.as_secs()) {
        Some(secs) if secs > 0 => Some(key_created + TimeDelta::seconds(i64::from(secs))),
        _ => None,
    }
}

fn has_key_flags(sig: &Signature) -> bool {
    sig.config().is_some_and(|c| {
        c.hashed_subpackets()
            .any(|p| matches!(p.data, SubpacketData::KeyFlags(_)))
    })
}

fn flags_allow_encryption(sig: &Signature) -> bool {
    let f = sig.key_flags();
    f.encrypt_comms() || f.encrypt_storage()
}

fn revocation_reason(sig: &Signature) -> String {
    match sig.revocation_reason_code() {
        None | Some(RevocationCode::NoReason) => "no reason given".into(),
        Some(RevocationCode::KeySuperseded) => "reason: superseded by another key".into(),
        Some(RevocationCode::KeyCompromised) => "reason: the key was compromised".into(),
        Some(RevocationCode::KeyRetired) => "reason: retired, no longer used".into(),
        Some(_) => "reason: other".into(),
    }
}

fn date(t: DateTime<Utc>) -> String {
    t.format(crate::error::DATE).to_string()
}

fn newest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.max_by_key(|s| s.created().map(|t| t.as_secs()).unwrap_or(0))
}

fn evaluate(key: SignedPublicKey, now: DateTime<Utc>) -> Result<Validated, KeyError> {
    let primary = &key.primary_key;
    let fingerprint = fingerprint_hex(primary);
    let primary_alg = u8::from(primary.algorithm());

    // -- Primary key algorithm and size.
    let (algorithm, bits) = describe(primary.algorithm(), primary.public_params());
    match primary.public_params() {
        PublicParams::RSA(_) => check_rsa_bits("primary key", bits)?,
        PublicParams::EdDSALegacy(EddsaLegacyPublicParams::Ed25519 { .. }) => {}
        PublicParams::EdDSALegacy(_) => {
            return Err(KeyError::UnsupportedAlgorithm {
                component: "primary key".into(),
                algorithm: "EdDSA on a curve other than Ed25519".into(),
                why: "",
            });
        }
        _ => {
            return Err(KeyError::UnsupportedAlgorithm {
                component: "primary key".into(),
                algorithm,
                why: unsupported_why(primary_alg),
            });
        }
    }

    // -- Every self-signature must verify.
    let primary_id = primary.legacy_key_id();
    let primary_fp = primary.fingerprint();
    let is_self = |sig: &Signature| {
        let ids = sig.issuer_key_id();
        let fps = sig.issuer_fingerprint();
        (ids.is_empty() && fps.is_empty())
            || ids.iter().any(|id| **id == primary_id)
            || fps.iter().any(|fp| **fp == primary_fp)
    };
    let invalid = |component: String| KeyError::InvalidSignature { component };

    let mut revocations = Vec::new();
    for sig in key
        .details
        .revocation_signatures
        .iter()
        .filter(|s| is_self(s))
    {
        sig.verify_key(primary)
            .map_err(|_| invalid("revocation signature of the primary key".into()))?;
        revocations.push(sig);
    }
    let mut direct = Vec::new();
    for sig in key.details.direct_signatures.iter().filter(|s| is_self(s)) {
        if sig.typ() != Some(SignatureType::Key) {
            continue;
        }
        sig.verify_key(primary)
            .map_err(|_| invalid("direct-key signature of the primary key".into()))?;
        direct.push(sig);
    }
    // Per user ID: (text, verified certifications, verified certification revocations).
    let mut users = Vec::new();
    for (n, user) in key.details.users.iter().enumerate() {
        let mut certs = Vec::new();
        let mut revs = Vec::new();
        for sig in user.signatures.iter().filter(|s| is_self(s)) {
            let is_rev = match sig.typ() {
                Some(
                    SignatureType::CertGeneric
                    | SignatureType::CertPersona
                    | SignatureType::CertCasual
                    | SignatureType::CertPositive,
                ) => false,
                Some(SignatureType::CertRevocation) => true,
                _ => continue,
            };
            sig.verify_certification(primary, Tag::UserId, &user.id)
                .map_err(|_| invalid(format!("self-signature on user ID #{}", n + 1)))?;
            if is_rev {
                revs.push(sig);
            } else {
                certs.push(sig);
            }
        }
        users.push((
            String::from_utf8_lossy(user.id.id()).into_owned(),
            certs,
            revs,
        ));
    }
    let mut subkey_bindings = Vec::new();
    for sub in &key.public_subkeys {
        let mut binds = Vec::new();
        let mut revs = Vec::new();
        for sig in sub.signatures.iter().filter(|s| is_self(s)) {
            let is_rev = match sig.typ() {
                Some(SignatureType::SubkeyBinding) => false,
                Some(SignatureType::SubkeyRevocation) => true,
                _ => continue,
            };
            sig.verify_subkey_binding(primary, &sub.key).map_err(|_| {
                invalid(format!(
                    "{} signature of subkey {}",
                    if is_rev { "revocation" } else { "binding" },
                    fingerprint_hex(&sub.key)
                ))
            })?;
            if is_rev {
                revs.push(sig);
            } else {
                binds.push(sig);
            }
        }
        subkey_bindings.push((binds, revs));
    }

    // -- Revocation of the primary key.
    if let Some(rev) = newest(revocations.iter().copied().filter(|s| in_effect(s, now))) {
        return Err(KeyError::Revoked {
            fingerprint,
            reason: revocation_reason(rev),
            revoked: created(rev).unwrap_or_default(),
        });
    }

    // -- The primary key's current self-signature, and its valid user IDs.
    let mut user_ids = Vec::new();
    let mut candidates: Vec<&Signature> = direct
        .iter()
        .copied()
        .filter(|s| in_effect(s, now))
        .collect();
    for (text, certs, revs) in &users {
        let Some(cert) = newest(certs.iter().copied().filter(|s| in_effect(s, now))) else {
            continue;
        };
        let revoked = newest(revs.iter().copied().filter(|s| in_effect(s, now)))
            .is_some_and(|r| r.created() >= cert.created());
        if revoked {
            continue;
        }
        user_ids.push(text.clone());
        candidates.push(cert);
    }
    let Some(binding) = newest(candidates.into_iter()) else {
        return Err(KeyError::NoValidSelfSignature { fingerprint });
    };

    let created_at = to_datetime(primary.created_at().as_secs());
    if created_at > now + CLOCK_SKEW {
        return Err(KeyError::CreatedInFuture {
            fingerprint,
            created: created_at,
        });
    }
    let expires = key_expiry(created_at, binding);
    if let Some(expired) = expires
        && expired <= now
    {
        return Err(KeyError::Expired {
            fingerprint,
            expired,
        });
    }

    // -- Encryption keys.
    let mut enc_keys = Vec::new();
    let mut infos = Vec::new();
    let mut notes = Vec::new();
    if has_key_flags(binding)
        && flags_allow_encryption(binding)
        && matches!(primary.public_params(), PublicParams::RSA(_))
    {
        enc_keys.push(EncKey {
            target: Target::Primary,
            expires,
        });
        infos.push(SubkeyInfo {
            fingerprint: fingerprint.clone(),
            algorithm: algorithm.clone(),
            bits,
            expires,
        });
    } else {
        notes.push("the primary key is for certification and signing only".to_owned());
    }
    for (i, (sub, (binds, revs))) in key.public_subkeys.iter().zip(&subkey_bindings).enumerate() {
        let sub_fp = fingerprint_hex(&sub.key);
        let Some(bind) = newest(binds.iter().copied().filter(|s| in_effect(s, now))) else {
            notes.push(format!(
                "subkey {sub_fp} has no binding signature in effect"
            ));
            continue;
        };
        let sub_alg = u8::from(sub.key.algorithm());
        let encrypts = if has_key_flags(bind) {
            flags_allow_encryption(bind)
        } else {
            matches!(sub_alg, 1 | 2 | 16 | 18 | 25 | 26)
        };
        if !encrypts {
            notes.push(format!("subkey {sub_fp} is not for encryption"));
            continue;
        }
        if let Some(rev) = newest(revs.iter().copied().filter(|s| in_effect(s, now))) {
            notes.push(format!(
                "encryption subkey {sub_fp} was revoked on {}",
                date(created(rev).unwrap_or_default())
            ));
            continue;
        }
        let sub_created = to_datetime(sub.key.created_at().as_secs());
        if sub_created > now + CLOCK_SKEW {
            notes.push(format!(
                "encryption subkey {sub_fp} was created in the future ({})",
                date(sub_created)
            ));
            continue;
        }
        let sub_expires = key_expiry(sub_created, bind);
        if let Some(e) = sub_expires
            && e <= now
        {
            notes.push(format!("encryption subkey {sub_fp} expired on {}", date(e)));
            continue;
        }
        let component = format!("encryption subkey {sub_fp}");
        let (sub_alg_name, sub_bits) = describe(sub.key.algorithm(), sub.key.public_params());
        match sub.key.public_params() {
            PublicParams::RSA(_) => check_rsa_bits(&component, sub_bits)?,
            PublicParams::ECDH(p)
                if p.curve() == pgp::crypto::ecc_curve::ECCCurve::Curve25519Legacy => {}
            PublicParams::ECDH(p) => {
                return Err(KeyError::UnsupportedAlgorithm {
                    component,
                    algorithm: format!("ECDH on curve {}", p.curve().name()),
                    why: "",
                });
            }
            _ => {
                return Err(KeyError::UnsupportedAlgorithm {
                    component,
                    algorithm: sub_alg_name,
                    why: unsupported_why(sub_alg),
                });
            }
        }
        // A subkey cannot outlive its primary key.
        let effective = match (sub_expires, expires) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        enc_keys.push(EncKey {
            target: Target::Subkey(i),
            expires: effective,
        });
        infos.push(SubkeyInfo {
            fingerprint: sub_fp,
            algorithm: sub_alg_name,
            bits: sub_bits,
            expires: sub_expires,
        });
    }
    if enc_keys.is_empty() {
        if key.public_subkeys.is_empty() {
            notes.push("it has no subkeys".into());
        }
        return Err(KeyError::NoEncryptionKey {
            fingerprint,
            details: notes.join("; "),
        });
    }

    // -- Warnings: until when can we encrypt to this key?
    let mut warnings = Vec::new();
    let usable_until = if enc_keys.iter().any(|k| k.expires.is_none()) {
        None
    } else {
        enc_keys.iter().filter_map(|k| k.expires).max()
    };
    if let Some(until) = usable_until
        && until - now <= EXPIRY_WARNING
    {
        let what = if Some(until) == expires {
            "The key"
        } else {
            "The key's last encryption subkey"
        };
        warnings.push(format!(
            "{what} expires on {} (in {} days); after that sealscribe cannot encrypt results to \
             it. VoiceBase recommends a one-year crypto-period: extend it with \
             `gpg --quick-set-expire {fingerprint} 1y` and `gpg --quick-set-expire {fingerprint} \
             1y '*'`, then upload the key again.",
            date(until),
            (until - now).num_days()
        ));
    }

    let info = KeyInfo {
        key_id: hex::encode_upper(primary.legacy_key_id().as_ref()),
        fingerprint,
        algorithm,
        bits,
        created: created_at,
        expires,
        user_ids,
        encryption_subkeys: infos,
        warnings,
    };
    Ok(Validated {
        key,
        info,
        enc_keys,
    })
}
