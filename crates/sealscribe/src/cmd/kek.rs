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

/// Stores every seal key under the current KEK: keys left in clear by an
/// earlier version (media in processing at the upgrade) or wrapped under an
/// older KEK. Returns (rewritten, gone meanwhile). Each row is a
/// compare-and-swap, so processes finishing or rewrapping the same media
/// concurrently are never overwritten.
async fn rewrap_all(
    db: &dyn Db,
    keys: &Keyring,
    only_clear: bool,
) -> anyhow::Result<(usize, usize)> {
    let (mut done, mut gone) = (0, 0);
    for (id, old) in db.stored_seal_keys().await? {
        if only_clear && matches!(old, StoredSealKey::Wrapped(_)) {
            continue;
        }
        let Some(new) = rewrapped(keys, &id.to_string(), &old)? else {
            continue;
        };
        if db.replace_seal_key(id, &old, &new).await? {
            done += 1;
        } else {
            gone += 1;
        }
    }
    Ok((done, gone))
}

/// At start (`serve`, `worker`): wraps the seal keys an earlier version left
/// in clear, so that an upgrade with media in processing keeps them
/// processable without a clear key at rest.
pub async fn wrap_clear_keys(db: &dyn Db, keys: &Keyring) -> anyhow::Result<()> {
    let (wrapped, _) = rewrap_all(db, keys, true)
        .await
        .context("wrapping seal keys stored in clear by an earlier version")?;
    if wrapped > 0 {
        tracing::info!(
            count = wrapped,
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
            let (rewrapped, gone) = rewrap_all(db.as_ref(), &keys, false).await?;
            tracing::info!(
                old_kek_id = old,
                new_kek_id = new,
                rewrapped,
                ended_meanwhile = gone,
                "key-encryption key rotated"
            );
            println!("{new}");
            eprintln!(
                "rotated to {new}; {rewrapped} seal keys rewrapped. Older keys stay in {} until \
                 `sealscribe kek retire` (after every machine has the new file).",
                path.display()
            );
        }
        KekCommand::Retire => {
            let keys = Keyring::open(&path)?;
            let db = db(storage).await?;
            // Rewrap first what a process still on the old file wrapped since.
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
