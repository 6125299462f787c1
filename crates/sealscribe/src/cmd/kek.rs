//! `sealscribe kek …`: the key-encryption key that wraps every seal key in the
//! database, and the start-up step that wraps keys an earlier version stored
//! in clear. Operator commands that talk to the database and the key file
//! directly (no running server needed; running ones pick up a new file).

use std::sync::Arc;

use anyhow::Context;
use sealscribe_seal::SealKey;
use sealscribe_seal::kek::Keyring;
use sealscribe_store::{Db, StoredSealKey, open_db};

use crate::config::{KekCommand, StorageArgs};

/// Wraps `old` (a stored key) under the current KEK; `None` if it already is.
fn rewrapped(keys: &Keyring, id: &str, old: &StoredSealKey) -> anyhow::Result<Option<String>> {
    Ok(match old {
        StoredSealKey::Clear(hex) => {
            let key = SealKey::from_hex(hex).with_context(|| format!("media {id}"))?;
            Some(keys.wrap(&key, id))
        }
        StoredSealKey::Wrapped(w) => keys
            .rewrap(w, id)
            .with_context(|| format!("rewrapping the seal key of media {id}"))?,
    })
}

/// What a pass over the stored seal keys did.
#[derive(Debug, Default)]
struct Pass {
    /// Rewritten under the current KEK.
    rewrapped: usize,
    /// Gone or changed meanwhile (the job ended, another process rewrapped it).
    skipped: usize,
    /// Could not be read: a KEK this file lacks, or a damaged value (logged
    /// with the media id; such a media cannot be processed either).
    failed: usize,
}

/// Stores every seal key under the current KEK: keys left in clear by an
/// earlier version (media in processing at the upgrade) and, unless
/// `only_clear`, keys wrapped under an older KEK. Each row is a
/// compare-and-swap, so processes finishing or rewrapping the same media
/// concurrently are never overwritten.
async fn rewrap_all(db: &dyn Db, keys: &Keyring, only_clear: bool) -> anyhow::Result<Pass> {
    let mut pass = Pass::default();
    for (id, old) in db.stored_seal_keys().await? {
        if only_clear && matches!(old, StoredSealKey::Wrapped(_)) {
            continue;
        }
        let new = match rewrapped(keys, &id.to_string(), &old) {
            Ok(Some(new)) => new,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(media_id = %id, error = format!("{e:#}"), "cannot rewrap this seal key");
                pass.failed += 1;
                continue;
            }
        };
        if db.replace_seal_key(id, &old, &new).await? {
            pass.rewrapped += 1;
        } else {
            pass.skipped += 1;
        }
    }
    Ok(pass)
}

/// At start (`serve`, `worker`): wraps the seal keys an earlier version left
/// in clear, so that an upgrade with media in processing keeps them
/// processable without a clear key at rest.
pub async fn wrap_clear_keys(db: &dyn Db, keys: &Keyring) -> anyhow::Result<()> {
    let pass = rewrap_all(db, keys, true)
        .await
        .context("wrapping seal keys stored in clear by an earlier version")?;
    if pass.rewrapped > 0 {
        tracing::info!(
            count = pass.rewrapped,
            "wrapped seal keys stored in clear by an earlier version"
        );
    }
    Ok(())
}

async fn db(storage: &StorageArgs) -> anyhow::Result<Arc<dyn Db>> {
    Ok(open_db(&storage.database_url()?).await?)
}

pub async fn run(storage: &StorageArgs, cmd: KekCommand) -> anyhow::Result<()> {
    anyhow::ensure!(
        storage.kek.is_none(),
        "`sealscribe kek` works on a key file (--kek-file); keys given in SEALSCRIBE_KEK are \
         changed by changing the variable"
    );
    let path = storage.kek_path()?;
    match cmd {
        KekCommand::Init => {
            let keys = Keyring::create(&path)?;
            tracing::info!(path = %path.display(), kek_id = keys.current_id(), "key-encryption key created");
            println!("{}", keys.current_id());
        }
        KekCommand::Rotate => {
            let keys = Keyring::open(&path)?;
            let db = db(storage).await?;
            let old = keys.current_id();
            let new = keys.rotate()?;
            let pass = rewrap_all(db.as_ref(), &keys, false).await?;
            tracing::info!(
                old_kek_id = old,
                new_kek_id = new,
                rewrapped = pass.rewrapped,
                ended_meanwhile = pass.skipped,
                failed = pass.failed,
                "key-encryption key rotated"
            );
            println!("{new}");
            eprintln!(
                "rotated to {new}; {} seal keys rewrapped. Older keys stay in {} until \
                 `sealscribe kek retire` (after every machine has the new file).",
                pass.rewrapped,
                path.display()
            );
            anyhow::ensure!(
                pass.failed == 0,
                "{} seal keys could not be rewrapped (their media ids are in the log): they \
                 are wrapped under a KEK this file does not hold, or damaged",
                pass.failed
            );
        }
        KekCommand::Retire => {
            let keys = Keyring::open(&path)?;
            let db = db(storage).await?;
            // Rewrap first what a process still on the old file wrapped since.
            // Keys that fail keep their KEK in the file (it is in use below).
            rewrap_all(db.as_ref(), &keys, false).await?;
            let mut in_use: Vec<String> = Vec::new();
            for (_, stored) in db.stored_seal_keys().await? {
                if let StoredSealKey::Wrapped(w) = stored
                    && let Ok(id) = Keyring::kek_id_of(&w)
                    && !in_use.iter().any(|u| u == id)
                {
                    in_use.push(id.to_owned());
                }
            }
            let removed = keys.retire(&in_use)?;
            tracing::info!(removed = ?removed, "key-encryption keys retired");
            for id in &removed {
                println!("{id}");
            }
        }
    }
    Ok(())
}
