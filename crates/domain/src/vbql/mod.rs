//! VBQL, the query language of v3 categories (`/v3/definition/categories`), as far as it is
//! public (analytics reference §4.4): a hand-written tokenizer and recursive-descent parser
//! ([`Query::parse`]) and its evaluation over a transcript ([`Query::evaluate`]).
//!
//! VoiceBase never published VBQL's grammar; the accepted subset is written down in
//! `docs/categories.md`. In short:
//!
//! ```text
//! query     = SELECT fields FROM media (MATCH | WHERE) condition [";"]
//! fields    = "*" | field {"," field}            field = mediaId | HITS "(" ")"
//! condition = and {(OR | "||") and}
//! and       = unary {(AND | "&&") unary}
//! unary     = (NOT | "!") unary | primary
//! primary   = "(" condition ")"
//!           | HITS "(" says {(OR | "||") says} ")" ("=" | "!=" | "<" | "<=" | ">" | ">=") integer
//!           | metadata "." name {"." name} ("=" | "!=") (string | integer | true | false)
//!           | says
//! says      = [("*" | string) SAYS] string      (a bare string: said by anyone)
//! ```
//!
//! Keywords are case-insensitive; strings take single or double quotes (the quote doubled
//! stands for itself). A phrase is matched with the one rule of
//! [`sealscribe_transcript::phrases`] (so `*` in a phrase is any one word), within one
//! speaker's turn; a quoted speaker matches the turn's speaker name, or the `speakerRole`
//! configured for it, case-insensitively, and the speaker of a transcript without turns is
//! `unknown`.
//!
//! Parsing is linear in the query and never recurses deeper than [`MAX_DEPTH`], so no input
//! can overflow the stack; every refusal is a [`SyntaxError`] that says where (character
//! offset) and what was expected.

mod eval;
mod lex;
#[cfg(test)]
mod tests;

use std::fmt;

use sealscribe_transcript::phrases::Phrase;

pub use eval::{Media, Outcome, SpeakerMatches};
use lex::{Kind, Token};

/// How deeply conditions may nest (parentheses and `NOT`s): a bound on the parser's
/// recursion, far above what a category needs.
pub const MAX_DEPTH: usize = 32;

/// A query that is not VBQL as sealscribe accepts it: where, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Characters (not bytes) from the start of the query, 0-based.
    pub offset: usize,
    pub expected: String,
    pub found: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VBQL syntax error at character offset {}: expected {}, found {}",
            self.offset, self.expected, self.found
        )
    }
}

impl std::error::Error for SyntaxError {}

/// Client text quoted in a message, cut to 40 characters.
fn clip(s: &str) -> String {
    crate::input::excerpt(s, 40)
}

/// A parsed VBQL query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// The select list (`*`, `mediaId`, `HITS()`): accepted, and without effect on a category.
    pub fields: Vec<Field>,
    /// The `MATCH` or `WHERE` condition.
    pub condition: Expr,
}

/// An item of the select list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    All,
    MediaId,
    Hits,
}

/// Who must have said a phrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Speaker {
    /// `*`: anyone.
    Anyone,
    /// A speaker (channel) name, compared case-insensitively.
    Named(String),
}

/// `<speaker> SAYS '<phrase>'`.
#[derive(Clone, Debug, PartialEq)]
pub struct Says {
    pub speaker: Speaker,
    pub phrase: Phrase,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, left: u64, right: u64) -> bool {
        match self {
            Cmp::Eq => left == right,
            Cmp::Ne => left != right,
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
            Cmp::Gt => left > right,
            Cmp::Ge => left >= right,
        }
    }
}

/// A literal a metadata field is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Str(String),
    Number(u64),
    Bool(bool),
}

/// A condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Says(Says),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// `HITS(a OR b …) <cmp> n`: the occurrences of all the phrases, counted together.
    Hits {
        of: Vec<Says>,
        cmp: Cmp,
        n: u64,
    },
    /// `metadata.a.b = value` (`Eq`) or `!=` (`Ne`) on the media's metadata.
    Metadata {
        path: Vec<String>,
        equal: bool,
        value: Literal,
    },
}

impl Query {
    /// Parses `text`; see the [module](self) for the grammar.
    ///
    /// # Errors
    ///
    /// The first place where `text` departs from the grammar.
    pub fn parse(text: &str) -> Result<Self, SyntaxError> {
        let tokens = lex::tokens(text)?;
        let mut p = Parser {
            tokens,
            at: 0,
            depth: 0,
        };
        let query = p.query()?;
        Ok(query)
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek2(&self) -> &Token {
        &self.tokens[(self.at + 1).min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn error(&self, expected: impl Into<String>) -> SyntaxError {
        let t = self.peek();
        SyntaxError {
            offset: t.offset,
            expected: expected.into(),
            found: t.kind.describe(),
        }
    }

    /// Whether the next token is the keyword `word` (any case).
    fn at_keyword(&self, word: &str) -> bool {
        matches!(&self.peek().kind, Kind::Word(w) if w.eq_ignore_ascii_case(word))
    }

    fn keyword(&mut self, word: &str) -> Result<(), SyntaxError> {
        if self.at_keyword(word) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(format!("`{word}`")))
        }
    }

    fn expect(&mut self, kind: Kind, what: &str) -> Result<(), SyntaxError> {
        if self.peek().kind == kind {
            self.bump();
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn query(&mut self) -> Result<Query, SyntaxError> {
        self.keyword("SELECT")?;
        let fields = self.fields()?;
        self.keyword("FROM")?;
        if !self.at_keyword("media") {
            return Err(self.error("`media` (the only library)"));
        }
        self.bump();
        if self.at_keyword("MATCH") || self.at_keyword("WHERE") {
            self.bump();
        } else {
            return Err(self.error(
                "`MATCH` or `WHERE` and a condition (a category needs one, e.g. \
                 MATCH 'hello')",
            ));
        }
        let condition = self.condition()?;
        if self.peek().kind == Kind::Semicolon {
            self.bump();
        }
        if self.peek().kind != Kind::End {
            return Err(self.error("`AND`, `OR` or the end of the query"));
        }
        Ok(Query { fields, condition })
    }

    fn fields(&mut self) -> Result<Vec<Field>, SyntaxError> {
        if self.peek().kind == Kind::Star {
            self.bump();
            return Ok(vec![Field::All]);
        }
        let mut out = Vec::new();
        loop {
            if self.at_keyword("mediaId") {
                self.bump();
                out.push(Field::MediaId);
            } else if self.at_keyword("HITS") {
                self.bump();
                self.expect(Kind::LParen, "`(` after HITS")?;
                self.expect(Kind::RParen, "`)`: HITS() takes nothing in the select list")?;
                out.push(Field::Hits);
            } else {
                return Err(self.error("`*`, `mediaId` or `HITS()`"));
            }
            if self.peek().kind == Kind::Comma {
                self.bump();
            } else {
                return Ok(out);
            }
        }
    }

    fn condition(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "a condition nested at most {MAX_DEPTH} levels deep (parentheses and NOTs)"
            )));
        }
        let mut items = vec![self.and()?];
        while self.at_keyword("OR") || self.peek().kind == Kind::OrOr {
            self.bump();
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.unary()?];
        while self.at_keyword("AND") || self.peek().kind == Kind::AndAnd {
            self.bump();
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        let mut nots = 0usize;
        while self.at_keyword("NOT") || self.peek().kind == Kind::Bang {
            self.bump();
            nots += 1;
            if nots > MAX_DEPTH {
                return Err(self.error(format!("at most {MAX_DEPTH} NOTs in a row")));
            }
        }
        let mut e = self.primary()?;
        for _ in 0..nots {
            e = Expr::Not(Box::new(e));
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        if self.peek().kind == Kind::LParen {
            self.bump();
            let e = self.condition()?;
            self.expect(Kind::RParen, "`)`, `AND` or `OR`")?;
            return Ok(e);
        }
        if self.at_keyword("HITS") {
            return self.hits();
        }
        if self.at_keyword("metadata") {
            return self.metadata();
        }
        self.says().map(Expr::Says)
    }

    /// `[speaker SAYS] 'phrase'`.
    fn says(&mut self) -> Result<Says, SyntaxError> {
        const WHAT: &str = "a condition: 'phrase', * SAYS 'phrase', 'speaker' SAYS 'phrase', \
                            NOT, HITS(…), metadata.… or `(`";
        let says_next =
            matches!(&self.peek2().kind, Kind::Word(w) if w.eq_ignore_ascii_case("SAYS"));
        let speaker = match (&self.peek().kind, says_next) {
            (Kind::Star, _) => {
                self.bump();
                if !self.at_keyword("SAYS") {
                    return Err(self.error("`SAYS` after the speaker `*`"));
                }
                Some(Speaker::Anyone)
            }
            (Kind::Str(name), true) => {
                let (name, offset) = (name.trim().to_owned(), self.peek().offset);
                if name.is_empty() {
                    return Err(SyntaxError {
                        offset,
                        expected: "a speaker name (or `*` for anyone)".into(),
                        found: "an empty string".into(),
                    });
                }
                self.bump();
                Some(Speaker::Named(name))
            }
            (Kind::Word(w), true) => {
                return Err(self.error(format!(
                    "a quoted speaker name or `*` before SAYS (write '{}' in quotes)",
                    clip(w)
                )));
            }
            (Kind::Str(_), false) => None,
            _ => return Err(self.error(WHAT)),
        };
        if speaker.is_some() {
            self.keyword("SAYS")?;
        }
        let t = self.peek().clone();
        let Kind::Str(text) = &t.kind else {
            return Err(self.error("a quoted phrase, e.g. 'hello'"));
        };
        let phrase = Phrase::parse(text).ok_or_else(|| SyntaxError {
            offset: t.offset,
            expected: "a phrase with at least one word (`*` alone matches nothing)".into(),
            found: t.kind.describe(),
        })?;
        self.bump();
        Ok(Says {
            speaker: speaker.unwrap_or(Speaker::Anyone),
            phrase,
        })
    }

    fn hits(&mut self) -> Result<Expr, SyntaxError> {
        self.bump();
        self.expect(Kind::LParen, "`(` after HITS")?;
        let mut of = vec![self.says()?];
        while self.at_keyword("OR") || self.peek().kind == Kind::OrOr {
            self.bump();
            of.push(self.says()?);
        }
        self.expect(
            Kind::RParen,
            "`)` or `OR` (HITS counts phrases joined by OR)",
        )?;
        let cmp = match self.peek().kind {
            Kind::Eq => Cmp::Eq,
            Kind::Ne => Cmp::Ne,
            Kind::Lt => Cmp::Lt,
            Kind::Le => Cmp::Le,
            Kind::Gt => Cmp::Gt,
            Kind::Ge => Cmp::Ge,
            _ => {
                return Err(self.error(
                    "a comparison after HITS(…): `=`, `!=`, `<`, `<=`, `>` or `>=` and a number",
                ));
            }
        };
        self.bump();
        let Kind::Number(n) = self.peek().kind else {
            return Err(self.error("a whole number of hits, e.g. 2"));
        };
        self.bump();
        Ok(Expr::Hits { of, cmp, n })
    }

    fn metadata(&mut self) -> Result<Expr, SyntaxError> {
        self.bump();
        let mut path = Vec::new();
        while self.peek().kind == Kind::Dot {
            self.bump();
            match self.peek().kind.clone() {
                Kind::Word(w) => path.push(w),
                Kind::Str(s) if !s.is_empty() => path.push(s),
                _ => {
                    return Err(self.error(
                        "a metadata field name after `.` (quote names with other characters: \
                         metadata.extended.'call type')",
                    ));
                }
            }
            self.bump();
        }
        if path.is_empty() {
            return Err(self.error("`.` and a metadata field, e.g. metadata.extended.region"));
        }
        let equal = match self.peek().kind {
            Kind::Eq => true,
            Kind::Ne => false,
            _ => return Err(self.error("`=` or `!=` after the metadata field")),
        };
        self.bump();
        let value = match self.peek().kind.clone() {
            Kind::Str(s) => Literal::Str(s),
            Kind::Number(n) => Literal::Number(n),
            Kind::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Kind::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => {
                return Err(self.error("a quoted string, a whole number, `true` or `false`"));
            }
        };
        self.bump();
        Ok(Expr::Metadata { path, equal, value })
    }
}
