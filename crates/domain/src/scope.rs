//! What a bearer token may do: its scope.
//!
//! VoiceBase v3 gives keys a `scope` string but documents only one example
//! (`media:get?extendedFilter=speakers:agent`) and says key management needs a
//! *user* token. sealscribe reads a scope as a set of grants, each a resource
//! (the first path segment after `/v3/`) and an HTTP method on it:
//!
//! ```text
//! scope    = "user" | grant *( sep grant )      ; sep: one or more spaces or commas
//! grant    = resource [ ":" action ]            ; no action, or "*": every action
//! resource = "media" | "definition" | "profile" | "security"
//! action   = "get" | "post" | "put" | "delete" | "*"
//! ```
//!
//! `user` is everything, including key management; operator tokens (`sealscribe
//! tokens create`) have it. A `?filter` after a grant (the v3 example) is
//! refused rather than ignored: a key that was meant to see only some media
//! must not silently see all of them. Requests are checked against the scope
//! in the API's auth layer, so every route, present or future, is covered; a
//! path outside the four resources needs `user` (fail closed).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A group of API paths: the first segment after `/v3/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// `/v3/media…`: uploads, documents, transcripts, streams, search.
    Media,
    /// `/v3/definition/…`: saved spotting groups, vocabularies, categories.
    Definition,
    /// `/v3/profile/keys…`: key management.
    Profile,
    /// `/v3/security/…`: OpenPGP public keys and the callback secret.
    Security,
}

impl Resource {
    pub const ALL: [Resource; 4] = [
        Resource::Media,
        Resource::Definition,
        Resource::Profile,
        Resource::Security,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Resource::Media => "media",
            Resource::Definition => "definition",
            Resource::Profile => "profile",
            Resource::Security => "security",
        }
    }

    /// The resource a `/v3/…` path belongs to, if any of the four.
    pub fn of_path(path: &str) -> Option<Self> {
        let segment = path.strip_prefix("/v3/")?.split('/').next()?;
        Resource::ALL.into_iter().find(|r| r.name() == segment)
    }
}

/// An HTTP method, as a scope names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Get,
    Post,
    Put,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Get, Action::Post, Action::Put, Action::Delete];

    pub fn name(self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Post => "post",
            Action::Put => "put",
            Action::Delete => "delete",
        }
    }

    /// The action an HTTP method needs: `HEAD` reads like `GET`, `PATCH`
    /// writes like `PUT`; any other method has none (only `user` may use it).
    pub fn of_method(method: &str) -> Option<Self> {
        match method {
            "GET" | "HEAD" => Some(Action::Get),
            "POST" => Some(Action::Post),
            "PUT" | "PATCH" => Some(Action::Put),
            "DELETE" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// A token's scope, parsed. Displayed in a canonical form (grants sorted,
/// a resource with every action written bare), which is what is stored and
/// returned as `VbKey.scope`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything, key management included: operator tokens.
    User,
    /// Only these (resource, action) pairs; never empty.
    Grants(BTreeSet<(Resource, Action)>),
}

impl Scope {
    /// What a key created over the API gets when it asks for no scope: every
    /// method on `/v3/media`, nothing else.
    pub fn default_for_keys() -> Self {
        Scope::Grants(Action::ALL.map(|a| (Resource::Media, a)).into())
    }

    /// Whether this scope lets a request with `action` on `resource` through.
    pub fn allows(&self, resource: Resource, action: Action) -> bool {
        match self {
            Scope::User => true,
            Scope::Grants(grants) => grants.contains(&(resource, action)),
        }
    }

    /// Whether everything `other` allows, this allows too (a key may create
    /// only keys it contains).
    pub fn contains(&self, other: &Scope) -> bool {
        match (self, other) {
            (Scope::User, _) => true,
            (Scope::Grants(_), Scope::User) => false,
            (Scope::Grants(mine), Scope::Grants(theirs)) => theirs.is_subset(mine),
        }
    }
}

/// Why a scope string was refused; the message says what is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeError(pub String);

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScopeError {}

const GRAMMAR: &str = "a scope is `user` or grants separated by spaces or commas, each \
    `resource[:action]` with resource one of media, definition, profile, security and action \
    one of get, post, put, delete, * (e.g. `media:get media:post`)";

/// Longest scope text read; the longest canonical scope is far shorter.
const MAX_SCOPE_CHARS: usize = 1000;

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(text: &str) -> Result<Self, ScopeError> {
        if text.chars().count() > MAX_SCOPE_CHARS {
            return Err(ScopeError(format!(
                "The scope is longer than {MAX_SCOPE_CHARS} characters; {GRAMMAR}."
            )));
        }
        let items: Vec<&str> = text.split([' ', ',']).filter(|s| !s.is_empty()).collect();
        if items.is_empty() {
            return Err(ScopeError(format!("The scope is empty; {GRAMMAR}.")));
        }
        let mut grants = BTreeSet::new();
        let mut user = false;
        for item in items {
            let quoted = format!("`{}`", crate::input::excerpt(item, 60));
            if item == "user" {
                user = true;
                continue;
            }
            if item.contains('?') {
                return Err(ScopeError(format!(
                    "The scope grant {quoted} has a filter (`?…`); sealscribe limits keys by \
                     resource and method only, so that a filter is never silently ignored. {GRAMMAR}."
                )));
            }
            let (resource, action) = match item.split_once(':') {
                Some((r, a)) => (r, Some(a)),
                None => (item, None),
            };
            let Some(resource) = Resource::ALL.into_iter().find(|r| r.name() == resource) else {
                return Err(ScopeError(format!(
                    "The scope grant {quoted} names an unknown resource; {GRAMMAR}."
                )));
            };
            let actions: Vec<Action> = match action {
                None | Some("*") => Action::ALL.to_vec(),
                Some(a) => match Action::ALL.into_iter().find(|x| x.name() == a) {
                    Some(a) => vec![a],
                    None => {
                        return Err(ScopeError(format!(
                            "The scope grant {quoted} names an unknown action; {GRAMMAR}."
                        )));
                    }
                },
            };
            grants.extend(actions.into_iter().map(|a| (resource, a)));
        }
        Ok(if user {
            Scope::User
        } else {
            Scope::Grants(grants)
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grants = match self {
            Scope::User => return f.write_str("user"),
            Scope::Grants(grants) => grants,
        };
        let mut first = true;
        for resource in Resource::ALL {
            let actions: Vec<Action> = Action::ALL
                .into_iter()
                .filter(|a| grants.contains(&(resource, *a)))
                .collect();
            let words: Vec<String> = if actions.len() == Action::ALL.len() {
                vec![resource.name().to_owned()]
            } else {
                actions
                    .iter()
                    .map(|a| format!("{}:{}", resource.name(), a.name()))
                    .collect()
            };
            for word in words {
                if !first {
                    f.write_str(" ")?;
                }
                f.write_str(&word)?;
                first = false;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        s.parse().unwrap()
    }

    #[test]
    fn grants_parse_to_a_canonical_form() {
        assert_eq!(scope("user").to_string(), "user");
        assert_eq!(
            scope("media:get media:post").to_string(),
            "media:get media:post"
        );
        assert_eq!(
            scope("media:post,, media:get media:get").to_string(),
            "media:get media:post"
        );
        assert_eq!(scope("media:*").to_string(), "media");
        assert_eq!(
            scope("profile:get media security:delete").to_string(),
            "media profile:get security:delete"
        );
        assert_eq!(scope("media user"), Scope::User);
        assert_eq!(Scope::default_for_keys().to_string(), "media");
        // The canonical form reads back as the same scope.
        for s in [
            "user",
            "media",
            "definition:put profile:get",
            "media:delete",
        ] {
            assert_eq!(scope(&scope(s).to_string()), scope(s));
        }
    }

    #[test]
    fn malformed_scopes_are_refused() {
        for bad in [
            "",
            " , ",
            "media:get?extendedFilter=speakers:agent",
            "Media:get",
            "media:GET",
            "media:patch",
            "keys",
            "media:",
            "media:get:post",
            ":get",
        ] {
            assert!(bad.parse::<Scope>().is_err(), "{bad:?} was accepted");
        }
        assert!("media ".repeat(200).parse::<Scope>().is_err());
    }

    #[test]
    fn scopes_allow_what_they_grant_and_nothing_else() {
        let read = scope("media:get");
        assert!(read.allows(Resource::Media, Action::Get));
        assert!(!read.allows(Resource::Media, Action::Post));
        assert!(!read.allows(Resource::Profile, Action::Get));
        assert!(Scope::User.allows(Resource::Profile, Action::Delete));

        assert!(Scope::User.contains(&read));
        assert!(scope("media").contains(&read));
        assert!(!read.contains(&scope("media")));
        assert!(!scope("media profile").contains(&Scope::User));
    }

    #[test]
    fn paths_and_methods_map_to_resources_and_actions() {
        assert_eq!(Resource::of_path("/v3/media"), Some(Resource::Media));
        assert_eq!(
            Resource::of_path("/v3/media/abc/transcript"),
            Some(Resource::Media)
        );
        assert_eq!(
            Resource::of_path("/v3/profile/keys/x"),
            Some(Resource::Profile)
        );
        assert_eq!(
            Resource::of_path("/v3/definition/spotting/groups"),
            Some(Resource::Definition)
        );
        assert_eq!(Resource::of_path("/v3/mediax"), None);
        assert_eq!(Resource::of_path("/v3/other"), None);
        assert_eq!(Resource::of_path("/media"), None);
        assert_eq!(Action::of_method("HEAD"), Some(Action::Get));
        assert_eq!(Action::of_method("OPTIONS"), None);
    }
}
