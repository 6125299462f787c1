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
//!
//! `evaluate` applies the rules in that order, one function per phase (algorithm, self-signatures,
//! revocation, current self-signature, lifetime, encryption keys, expiry warning), so that each
//! rule can be tested on its own (see the tests at the end of this file).

use chrono::{DateTime, TimeDelta, Utc};
use pgp::{
    composed::{Deserializable as _, SignedPublicKey, SignedPublicSubKey},
    crypto::public_key::PublicKeyAlgorithm,
    packet::{PublicKey, RevocationCode, Signature, SignatureType, SubpacketData},
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

/// Applies the rules of the module docs, one phase after the other; the first rule a
/// certificate breaks is the error.
fn evaluate(key: SignedPublicKey, now: DateTime<Utc>) -> Result<Validated, KeyError> {
    let primary = &key.primary_key;
    let fingerprint = fingerprint_hex(primary);
    let (algorithm, bits) = check_primary_algorithm(primary)?;
    let sigs = verify_self_signatures(&key)?;
    check_not_revoked(&sigs, &fingerprint, now)?;
    let (binding, user_ids) = current_self_signature(&sigs, &fingerprint, now)?;
    let (created_at, expires) = check_primary_lifetime(primary, binding, &fingerprint, now)?;
    let primary_info = SubkeyInfo {
        fingerprint: fingerprint.clone(),
        algorithm: algorithm.clone(),
        bits,
        expires,
    };
    let (enc_keys, infos) = encryption_keys(&key, &sigs, binding, primary_info, &fingerprint, now)?;
    let warnings = expiry_warnings(&enc_keys, expires, &fingerprint, now);

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

/// Rule: the primary key is RSA 2048–4096 or legacy EdDSA on Ed25519. Returns its
/// algorithm name and size.
fn check_primary_algorithm(primary: &PublicKey) -> Result<(String, u32), KeyError> {
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
                why: unsupported_why(u8::from(primary.algorithm())),
            });
        }
    }
    Ok((algorithm, bits))
}

/// The self-signatures of a certificate, each one verified, sorted by what they sign.
struct SelfSignatures<'a> {
    /// Key revocation signatures of the primary key.
    revocations: Vec<&'a Signature>,
    /// Direct-key signatures of the primary key.
    direct: Vec<&'a Signature>,
    /// Per user ID: its text, its certifications and its certification revocations.
    users: Vec<(String, Vec<&'a Signature>, Vec<&'a Signature>)>,
    /// Per subkey, in the certificate's order: binding signatures and revocations.
    subkeys: Vec<(Vec<&'a Signature>, Vec<&'a Signature>)>,
}

/// Rule: **every self-signature must verify** (third-party signatures are ignored).
fn verify_self_signatures(key: &SignedPublicKey) -> Result<SelfSignatures<'_>, KeyError> {
    let primary = &key.primary_key;
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
    let mut subkeys = Vec::new();
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
        subkeys.push((binds, revs));
    }
    Ok(SelfSignatures {
        revocations,
        direct,
        users,
        subkeys,
    })
}

/// Rule: the primary key is not revoked by a key revocation signature in effect at `now`.
fn check_not_revoked(
    sigs: &SelfSignatures<'_>,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(), KeyError> {
    match newest(
        sigs.revocations
            .iter()
            .copied()
            .filter(|s| in_effect(s, now)),
    ) {
        Some(rev) => Err(KeyError::Revoked {
            fingerprint: fingerprint.to_owned(),
            reason: revocation_reason(rev),
            revoked: created(rev).unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

/// Rule: the primary key has a self-signature in effect at `now` — a direct-key signature
/// or the certification of a user ID that is not revoked. Returns the newest one, which
/// carries the key's current expiry and flags, and the user IDs that are valid.
fn current_self_signature<'a>(
    sigs: &SelfSignatures<'a>,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(&'a Signature, Vec<String>), KeyError> {
    let mut user_ids = Vec::new();
    let mut candidates: Vec<&Signature> = sigs
        .direct
        .iter()
        .copied()
        .filter(|s| in_effect(s, now))
        .collect();
    for (text, certs, revs) in &sigs.users {
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
    match newest(candidates.into_iter()) {
        Some(binding) => Ok((binding, user_ids)),
        None => Err(KeyError::NoValidSelfSignature {
            fingerprint: fingerprint.to_owned(),
        }),
    }
}

/// Rules: the primary key was not created in the future (beyond [`CLOCK_SKEW`]) and has
/// not expired by its current self-signature. Returns its creation time and expiry.
fn check_primary_lifetime(
    primary: &PublicKey,
    binding: &Signature,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), KeyError> {
    let created_at = to_datetime(primary.created_at().as_secs());
    if created_at > now + CLOCK_SKEW {
        return Err(KeyError::CreatedInFuture {
            fingerprint: fingerprint.to_owned(),
            created: created_at,
        });
    }
    let expires = key_expiry(created_at, binding);
    if let Some(expired) = expires
        && expired <= now
    {
        return Err(KeyError::Expired {
            fingerprint: fingerprint.to_owned(),
            expired,
        });
    }
    Ok((created_at, expires))
}

/// Rule: at least one key can be encrypted to — the subkeys that
/// [`subkey_for_encryption`] accepts, and an RSA primary key whose current self-signature
/// has an encryption flag (`primary` describes it). Returns the keys and what to report
/// about them; otherwise [`KeyError::NoEncryptionKey`] says why each key was not used.
fn encryption_keys(
    key: &SignedPublicKey,
    sigs: &SelfSignatures<'_>,
    binding: &Signature,
    primary: SubkeyInfo,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<EncKey>, Vec<SubkeyInfo>), KeyError> {
    let mut enc_keys = Vec::new();
    let mut infos = Vec::new();
    let mut notes = Vec::new();
    if has_key_flags(binding)
        && flags_allow_encryption(binding)
        && matches!(key.primary_key.public_params(), PublicParams::RSA(_))
    {
        enc_keys.push(EncKey {
            target: Target::Primary,
            expires: primary.expires,
        });
        infos.push(primary.clone());
    } else {
        notes.push("the primary key is for certification and signing only".to_owned());
    }
    for (i, (sub, (binds, revs))) in key.public_subkeys.iter().zip(&sigs.subkeys).enumerate() {
        match subkey_for_encryption(sub, binds, revs, now)? {
            Subkey::Skipped(note) => notes.push(note),
            Subkey::Usable(info) => {
                // A subkey cannot outlive its primary key.
                let effective = match (info.expires, primary.expires) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                enc_keys.push(EncKey {
                    target: Target::Subkey(i),
                    expires: effective,
                });
                infos.push(info);
            }
        }
    }
    if enc_keys.is_empty() {
        if key.public_subkeys.is_empty() {
            notes.push("it has no subkeys".into());
        }
        return Err(KeyError::NoEncryptionKey {
            fingerprint: fingerprint.to_owned(),
            details: notes.join("; "),
        });
    }
    Ok((enc_keys, infos))
}

/// What [`subkey_for_encryption`] decided about one subkey.
#[derive(Debug)]
enum Subkey {
    /// Encrypted to; `expires` is the subkey's own expiry.
    Usable(SubkeyInfo),
    /// Not used, for the reason given (a note of [`KeyError::NoEncryptionKey`]).
    Skipped(String),
}

/// Rules for a subkey: it is used for encryption when its newest binding signature in
/// effect has an encryption flag (or, lacking flags, its algorithm can only encrypt), it is
/// not revoked, not created in the future and not expired. Such a subkey must be RSA
/// 2048–4096 or ECDH on Curve25519, or the whole certificate is refused.
fn subkey_for_encryption(
    sub: &SignedPublicSubKey,
    binds: &[&Signature],
    revs: &[&Signature],
    now: DateTime<Utc>,
) -> Result<Subkey, KeyError> {
    let sub_fp = fingerprint_hex(&sub.key);
    let Some(bind) = newest(binds.iter().copied().filter(|s| in_effect(s, now))) else {
        return Ok(Subkey::Skipped(format!(
            "subkey {sub_fp} has no binding signature in effect"
        )));
    };
    let sub_alg = u8::from(sub.key.algorithm());
    let encrypts = if has_key_flags(bind) {
        flags_allow_encryption(bind)
    } else {
        matches!(sub_alg, 1 | 2 | 16 | 18 | 25 | 26)
    };
    if !encrypts {
        return Ok(Subkey::Skipped(format!(
            "subkey {sub_fp} is not for encryption"
        )));
    }
    if let Some(rev) = newest(revs.iter().copied().filter(|s| in_effect(s, now))) {
        return Ok(Subkey::Skipped(format!(
            "encryption subkey {sub_fp} was revoked on {}",
            date(created(rev).unwrap_or_default())
        )));
    }
    let sub_created = to_datetime(sub.key.created_at().as_secs());
    if sub_created > now + CLOCK_SKEW {
        return Ok(Subkey::Skipped(format!(
            "encryption subkey {sub_fp} was created in the future ({})",
            date(sub_created)
        )));
    }
    let sub_expires = key_expiry(sub_created, bind);
    if let Some(e) = sub_expires
        && e <= now
    {
        return Ok(Subkey::Skipped(format!(
            "encryption subkey {sub_fp} expired on {}",
            date(e)
        )));
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
    Ok(Subkey::Usable(SubkeyInfo {
        fingerprint: sub_fp,
        algorithm: sub_alg_name,
        bits: sub_bits,
        expires: sub_expires,
    }))
}

/// Rule (a warning, not a refusal): say so when sealscribe can encrypt to the key for
/// [`EXPIRY_WARNING`] or less, and how to extend it.
fn expiry_warnings(
    enc_keys: &[EncKey],
    expires: Option<DateTime<Utc>>,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Vec<String> {
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
    warnings
}

/// One test per rule, each on its phase alone, with keys made by the real `gpg`.
#[cfg(all(test, feature = "test-support"))]
mod tests {
    use pgp::composed::Deserializable as _;

    use super::*;
    use crate::testing::GpgHome;

    fn certificate(home: &GpgHome, fpr: &str) -> SignedPublicKey {
        SignedPublicKey::from_bytes(&home.export_public(fpr, false)[..])
            .expect("gpg's export parses")
    }

    fn created_at(key: &SignedPublicKey) -> DateTime<Utc> {
        to_datetime(key.primary_key.created_at().as_secs())
    }

    #[test]
    fn primary_key_is_rsa_2048_to_4096_or_ed25519() {
        let home = GpgHome::new();
        let small = certificate(&home, &home.gen_rsa1024("Small <small@example.com>"));
        let err = check_primary_algorithm(&small.primary_key).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::RsaTooSmall {
                    bits: 1024,
                    min: 2048,
                    ..
                }
            ),
            "{err:?}"
        );
        let rsa = certificate(&home, &home.gen_rsa_and_rsa("Rsa <rsa@example.com>"));
        assert_eq!(
            check_primary_algorithm(&rsa.primary_key).unwrap(),
            ("RSA".to_owned(), 2048)
        );
        let ed = certificate(&home, &home.gen_future_default("Ed <ed@example.com>"));
        assert_eq!(
            check_primary_algorithm(&ed.primary_key).unwrap(),
            ("EdDSA".to_owned(), 255)
        );
    }

    #[test]
    fn every_self_signature_must_verify() {
        let home = GpgHome::new();
        let fpr = home.gen_rsa_and_rsa("Cut <cut@example.com>");
        let binary = home.export_public(&fpr, false);
        let key = SignedPublicKey::from_bytes(&binary[..]).unwrap();
        let sigs = verify_self_signatures(&key).expect("gpg's own key verifies");
        assert_eq!(sigs.users.len(), 1);
        assert_eq!(sigs.users[0].0, "Cut <cut@example.com>");
        assert_eq!(sigs.users[0].1.len(), 1);
        assert_eq!(sigs.subkeys.len(), 1);
        assert_eq!(sigs.subkeys[0].0.len(), 1);
        assert!(sigs.revocations.is_empty());

        // The user ID altered after signing (same length): its certification fails.
        let mut tampered = binary.clone();
        let at = tampered.windows(3).position(|w| w == b"Cut").unwrap();
        tampered[at] = b'P';
        let key = SignedPublicKey::from_bytes(&tampered[..]).unwrap();
        match verify_self_signatures(&key) {
            Err(KeyError::InvalidSignature { component }) => {
                assert_eq!(component, "self-signature on user ID #1");
            }
            other => panic!("{:?}", other.err()),
        }
    }

    #[test]
    fn a_revocation_in_effect_revokes_the_primary_key() {
        let home = GpgHome::new();
        let fpr = home.gen_future_default("Gone <gone@example.com>");
        let key = certificate(&home, &fpr);
        let sigs = verify_self_signatures(&key).unwrap();
        check_not_revoked(&sigs, &fpr, Utc::now()).expect("not revoked yet");

        home.revoke(&fpr);
        let key = certificate(&home, &fpr);
        let sigs = verify_self_signatures(&key).unwrap();
        let err = check_not_revoked(&sigs, &fpr, Utc::now()).unwrap_err();
        assert!(matches!(err, KeyError::Revoked { .. }), "{err:?}");
        // A revocation made after `now` (beyond the clock skew) is not in effect yet.
        let before = Utc::now() - TimeDelta::hours(1);
        check_not_revoked(&sigs, &fpr, before).expect("revocation not in effect at `before`");
    }

    #[test]
    fn a_self_signature_must_be_in_effect() {
        let home = GpgHome::new();
        let fpr = home.gen_future_default("Now <now@example.com>");
        let key = certificate(&home, &fpr);
        let sigs = verify_self_signatures(&key).unwrap();
        let (_, user_ids) = current_self_signature(&sigs, &fpr, Utc::now()).unwrap();
        assert_eq!(user_ids, ["Now <now@example.com>"]);

        let before = created_at(&key) - TimeDelta::hours(1);
        let err = current_self_signature(&sigs, &fpr, before).unwrap_err();
        assert!(
            matches!(err, KeyError::NoValidSelfSignature { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn primary_key_not_created_in_the_future_and_not_expired() {
        let home = GpgHome::new();
        let fpr = home.gen_future_default("Soon <soon@example.com>");
        let key = certificate(&home, &fpr);
        let sigs = verify_self_signatures(&key).unwrap();
        let (binding, _) = current_self_signature(&sigs, &fpr, Utc::now()).unwrap();
        let created = created_at(&key);
        let (at, expires) =
            check_primary_lifetime(&key.primary_key, binding, &fpr, Utc::now()).unwrap();
        assert_eq!(at, created);
        assert!(expires.is_some_and(|e| e > created + TimeDelta::days(360)));
        // Within the clock skew a key "from the future" is fine; beyond it, not.
        check_primary_lifetime(&key.primary_key, binding, &fpr, created - CLOCK_SKEW / 2)
            .expect("within the skew");
        let err = check_primary_lifetime(&key.primary_key, binding, &fpr, created - CLOCK_SKEW * 2)
            .unwrap_err();
        assert!(matches!(err, KeyError::CreatedInFuture { .. }), "{err:?}");

        let old = home.gen_expired("Old <old@example.com>");
        let key = certificate(&home, &old);
        let sigs = verify_self_signatures(&key).unwrap();
        let (binding, _) = current_self_signature(&sigs, &old, Utc::now()).unwrap();
        let err = check_primary_lifetime(&key.primary_key, binding, &old, Utc::now()).unwrap_err();
        assert!(matches!(err, KeyError::Expired { .. }), "{err:?}");
    }

    #[test]
    fn a_certificate_needs_a_key_to_encrypt_to() {
        let home = GpgHome::new();
        let fpr = home.gen_sign_only("Signer <signer@example.com>");
        let key = certificate(&home, &fpr);
        let sigs = verify_self_signatures(&key).unwrap();
        let (binding, _) = current_self_signature(&sigs, &fpr, Utc::now()).unwrap();
        let (algorithm, bits) = check_primary_algorithm(&key.primary_key).unwrap();
        let primary = SubkeyInfo {
            fingerprint: fpr.clone(),
            algorithm,
            bits,
            expires: None,
        };
        match encryption_keys(&key, &sigs, binding, primary, &fpr, Utc::now()) {
            Err(KeyError::NoEncryptionKey { details, .. }) => assert_eq!(
                details,
                "the primary key is for certification and signing only; it has no subkeys"
            ),
            other => panic!("{other:?}"),
        }
    }

    /// The first subkey of `fpr` with its verified signatures, judged at `now`.
    fn judge_subkey(home: &GpgHome, fpr: &str, now: DateTime<Utc>) -> Result<Subkey, KeyError> {
        let key = certificate(home, fpr);
        let sigs = verify_self_signatures(&key).unwrap();
        let (binds, revs) = &sigs.subkeys[0];
        subkey_for_encryption(&key.public_subkeys[0], binds, revs, now)
    }

    #[test]
    fn an_encryption_subkey_is_used_when_bound_unrevoked_and_unexpired() {
        let home = GpgHome::new();
        let fpr = home.gen_rsa_and_rsa("Good <good@example.com>");
        let sub = home.subkey_fingerprints(&fpr).remove(0);
        match judge_subkey(&home, &fpr, Utc::now()).unwrap() {
            Subkey::Usable(info) => {
                assert_eq!(
                    (info.fingerprint, info.algorithm, info.bits),
                    (sub.clone(), "RSA".into(), 2048)
                );
                assert!(info.expires.is_some());
            }
            other => panic!("{other:?}"),
        }
        // Before its binding signature was made, the subkey is not bound.
        let before = Utc::now() - TimeDelta::days(1);
        match judge_subkey(&home, &fpr, before).unwrap() {
            Subkey::Skipped(note) => {
                assert_eq!(
                    note,
                    format!("subkey {sub} has no binding signature in effect")
                );
            }
            other => panic!("{other:?}"),
        }

        home.revoke_subkey(&fpr, 1);
        match judge_subkey(&home, &fpr, Utc::now()).unwrap() {
            Subkey::Skipped(note) => assert!(
                note.starts_with(&format!("encryption subkey {sub} was revoked on ")),
                "{note}"
            ),
            other => panic!("{other:?}"),
        }

        let expired = home.gen_expired_subkey("Lapsed <lapsed@example.com>");
        match judge_subkey(&home, &expired, Utc::now()).unwrap() {
            Subkey::Skipped(note) => assert!(note.contains(" expired on "), "{note}"),
            other => panic!("{other:?}"),
        }

        let signer = home.gen_sign_only("Sign <sign@example.com>");
        home.gpg(&["--quick-add-key", &signer, "rsa2048", "sign", "1y"], b"");
        match judge_subkey(&home, &signer, Utc::now()).unwrap() {
            Subkey::Skipped(note) => assert!(note.ends_with(" is not for encryption"), "{note}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_encryption_subkey_must_be_rsa_2048_to_4096_or_cv25519() {
        let home = GpgHome::new();
        let fpr = home.gen_rsa1024("Small <small@example.com>");
        let err = judge_subkey(&home, &fpr, Utc::now()).unwrap_err();
        assert!(
            matches!(&err, KeyError::RsaTooSmall { component, bits: 1024, .. }
                if component.starts_with("encryption subkey ")),
            "{err:?}"
        );
        let ed = home.gen_future_default("Ed <ed@example.com>");
        match judge_subkey(&home, &ed, Utc::now()).unwrap() {
            Subkey::Usable(info) => assert_eq!((info.algorithm.as_str(), info.bits), ("ECDH", 255)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn warns_when_the_last_encryption_key_expires_within_30_days() {
        let now = Utc::now();
        let key = |days: Option<i64>| EncKey {
            target: Target::Primary,
            expires: days.map(|d| now + TimeDelta::days(d)),
        };
        let primary = Some(now + TimeDelta::days(10));
        let warned = expiry_warnings(&[key(Some(10))], primary, "FPR", now);
        assert_eq!(warned.len(), 1);
        assert!(
            warned[0].starts_with("The key expires on "),
            "{}",
            warned[0]
        );
        assert!(warned[0].contains("gpg --quick-set-expire FPR 1y"));

        let warned = expiry_warnings(&[key(Some(5)), key(Some(20))], None, "FPR", now);
        assert_eq!(warned.len(), 1);
        assert!(warned[0].starts_with("The key's last encryption subkey expires on "));

        assert!(expiry_warnings(&[key(Some(31))], None, "FPR", now).is_empty());
        assert!(expiry_warnings(&[key(Some(5)), key(None)], None, "FPR", now).is_empty());
    }
}
