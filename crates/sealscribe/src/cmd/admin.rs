//! `sealscribe accounts …` and `sealscribe tokens …`: operator commands that
//! talk to the database directly (no running server needed).

use anyhow::{Context, bail};
use chrono::{SubsecRound, Utc};
use sealscribe_domain::scope::Scope;
use sealscribe_domain::token::{PREFIX_LEN, TokenHash, looks_like_token};
use sealscribe_domain::{KeyId, Token, TokenRecord};
use sealscribe_store::{Db, RevokeOutcome, open_db};

use crate::config::{AccountsCommand, StorageArgs, TokensCommand};

async fn db(storage: &StorageArgs) -> anyhow::Result<std::sync::Arc<dyn Db>> {
    Ok(open_db(&storage.database_url()?).await?)
}

pub async fn accounts(storage: &StorageArgs, cmd: AccountsCommand) -> anyhow::Result<()> {
    match cmd {
        AccountsCommand::Create { name } => {
            let name = name.trim();
            if name.is_empty() || name.len() > 200 {
                bail!("an account name must be 1 to 200 characters");
            }
            let db = db(storage).await?;
            let token = Token::generate();
            let account = db
                .create_account(name, token.prefix(), &token.hash())
                .await?;
            tracing::info!(account_id = %account.id, token_prefix = token.prefix(), "account created");
            println!("{}", token.expose());
            Ok(())
        }
    }
}

pub async fn tokens(storage: &StorageArgs, cmd: TokensCommand) -> anyhow::Result<()> {
    let db = db(storage).await?;
    match cmd {
        TokensCommand::Create {
            account,
            scope,
            expires_in_secs,
        } => {
            let scope: Scope = scope.parse().map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
            let account = find_account(db.as_ref(), &account).await?;
            let token = Token::generate();
            let now = Utc::now().trunc_subsecs(3);
            let expires_at = expires_in_secs.map(|s| now + chrono::TimeDelta::seconds(s as i64));
            let record = TokenRecord {
                id: KeyId::new(),
                prefix: token.prefix().to_owned(),
                last_six: Some(token.last_six().to_owned()),
                account_id: account.id,
                scope,
                created_at: now,
                expires_at,
                revoked_at: None,
            };
            db.insert_token(&record, &token.hash()).await?;
            tracing::info!(account_id = %account.id, token_prefix = token.prefix(), "token created");
            println!("{}", token.expose());
        }
        TokensCommand::List { account } => {
            let account = find_account(db.as_ref(), &account).await?;
            for t in db.list_tokens(account.id).await? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
                    (None, Some(at)) if t.is_expired(Utc::now()) => {
                        format!("expired {}", at.to_rfc3339())
                    }
                    (None, Some(at)) => format!("active, expires {}", at.to_rfc3339()),
                    (None, None) => "active".to_owned(),
                };
                println!(
                    "{}\tcreated {}\t{state}\tscope {}\tid {}",
                    t.prefix,
                    t.created_at.to_rfc3339(),
                    t.scope,
                    t.id
                );
            }
        }
        TokensCommand::Revoke { token_prefix } => {
            let given = token_prefix.trim();
            if given.len() < PREFIX_LEN || !given.is_char_boundary(PREFIX_LEN) {
                bail!(
                    "give the token prefix as shown by `sealscribe tokens list` ({PREFIX_LEN} characters) or the whole token"
                );
            }
            let hash = looks_like_token(given).then(|| TokenHash::of(given));
            let outcome = db
                .revoke_token(&given[..PREFIX_LEN], hash.as_ref())
                .await
                .context("revoking token")?;
            match outcome {
                RevokeOutcome::Revoked => {
                    tracing::info!(token_prefix = &given[..PREFIX_LEN], "token revoked");
                    println!("revoked {}", &given[..PREFIX_LEN]);
                }
                RevokeOutcome::AlreadyRevoked => {
                    println!("already revoked {}", &given[..PREFIX_LEN])
                }
                RevokeOutcome::NotFound => {
                    bail!("no token has the prefix {}", &given[..PREFIX_LEN])
                }
                RevokeOutcome::Ambiguous => {
                    bail!("several tokens share this prefix; give the whole token to revoke one")
                }
            }
        }
    }
    Ok(())
}

async fn find_account(db: &dyn Db, name_or_id: &str) -> anyhow::Result<sealscribe_domain::Account> {
    db.find_account(name_or_id)
        .await?
        .with_context(|| format!("no account named {name_or_id:?} (or with that id)"))
}
