//! An account's saved definitions: what `/v3/definition/{spotting/groups, vocabularies,
//! categories}` store, by name, per account.
//!
//! v3 keys every definition by its name within the account (the path parameter is the
//! name), so one store serves all three kinds: the storage layer keeps `(kind, name)` and
//! the definition's JSON without interpreting it, and each kind's shape and validation live
//! with the feature that uses it.

use std::fmt;

/// Which kind of definition a name refers to; names are unique per account and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefinitionKind {
    /// A keyword spotting group (`/v3/definition/spotting/groups`).
    SpottingGroup,
    /// A custom vocabulary (`/v3/definition/vocabularies`).
    Vocabulary,
    /// A category with its VBQL query (`/v3/definition/categories`).
    Category,
    /// The account's searchable extended-metadata fields (`/v3/definition/media/search`):
    /// one definition, named [`DEFINITION_NAME`](crate::extended::DEFINITION_NAME), whose
    /// body is a [`SearchableFields`](crate::extended::SearchableFields).
    SearchableFields,
}

impl DefinitionKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SpottingGroup => "spotting-group",
            Self::Vocabulary => "vocabulary",
            Self::Category => "category",
            Self::SearchableFields => "searchable-fields",
        }
    }
}

impl fmt::Display for DefinitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
