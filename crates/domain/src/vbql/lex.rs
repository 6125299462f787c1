//! The VBQL tokens: keywords and names, quoted strings, numbers and operators, each with the
//! character offset it starts at (what a syntax error points to).

use super::SyntaxError;

/// One token and where it starts (characters from the start of the query, 0-based).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) offset: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kind {
    /// A keyword or name (`SELECT`, `media`, `mediaId`, `metadata`, `extended`, …), as written.
    Word(String),
    /// A quoted string, its quotes removed and doubled quotes read as one.
    Str(String),
    /// A non-negative integer.
    Number(u64),
    Star,
    LParen,
    RParen,
    Comma,
    Dot,
    Semicolon,
    /// `=` (or `==`).
    Eq,
    /// `!=` or `<>`.
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `&&`.
    AndAnd,
    /// `||`.
    OrOr,
    /// `!` alone: NOT.
    Bang,
    End,
}

impl Kind {
    /// How an error message names what was found.
    pub(super) fn describe(&self) -> String {
        match self {
            Kind::Word(w) => format!("`{}`", super::clip(w)),
            Kind::Str(s) => format!("the string '{}'", super::clip(s)),
            Kind::Number(n) => format!("the number {n}"),
            Kind::Star => "`*`".into(),
            Kind::LParen => "`(`".into(),
            Kind::RParen => "`)`".into(),
            Kind::Comma => "`,`".into(),
            Kind::Dot => "`.`".into(),
            Kind::Semicolon => "`;`".into(),
            Kind::Eq => "`=`".into(),
            Kind::Ne => "`!=`".into(),
            Kind::Lt => "`<`".into(),
            Kind::Le => "`<=`".into(),
            Kind::Gt => "`>`".into(),
            Kind::Ge => "`>=`".into(),
            Kind::AndAnd => "`&&`".into(),
            Kind::OrOr => "`||`".into(),
            Kind::Bang => "`!`".into(),
            Kind::End => "the end of the query".into(),
        }
    }
}

/// Cuts `query` into tokens, ending with [`Kind::End`].
pub(super) fn tokens(query: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let two = |next: char| chars.get(i + 1) == Some(&next);
        let (kind, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '\'' | '"' => {
                let (text, len) = string(&chars, i)?;
                (Kind::Str(text), len)
            }
            c if c.is_ascii_digit() => {
                let mut j = i;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                let digits: String = chars[i..j].iter().collect();
                let n = digits.parse::<u64>().map_err(|_| SyntaxError {
                    offset: start,
                    expected: "a number below 18446744073709551616".into(),
                    found: format!("the number {}", super::clip(&digits)),
                })?;
                (Kind::Number(n), j - i)
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                (Kind::Word(chars[i..j].iter().collect()), j - i)
            }
            '*' => (Kind::Star, 1),
            '(' => (Kind::LParen, 1),
            ')' => (Kind::RParen, 1),
            ',' => (Kind::Comma, 1),
            '.' => (Kind::Dot, 1),
            ';' => (Kind::Semicolon, 1),
            '=' if two('=') => (Kind::Eq, 2),
            '=' => (Kind::Eq, 1),
            '!' if two('=') => (Kind::Ne, 2),
            '!' => (Kind::Bang, 1),
            '<' if two('>') => (Kind::Ne, 2),
            '<' if two('=') => (Kind::Le, 2),
            '<' => (Kind::Lt, 1),
            '>' if two('=') => (Kind::Ge, 2),
            '>' => (Kind::Gt, 1),
            '&' if two('&') => (Kind::AndAnd, 2),
            '|' if two('|') => (Kind::OrOr, 2),
            other => {
                return Err(SyntaxError {
                    offset: start,
                    expected: "a keyword, a quoted string, a number, `*`, `(`, `)`, `,`, `.`, \
                               an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`)"
                        .into(),
                    found: format!("the character `{}`", other.escape_debug()),
                });
            }
        };
        out.push(Token {
            kind,
            offset: start,
        });
        i += len;
    }
    out.push(Token {
        kind: Kind::End,
        offset: chars.len(),
    });
    Ok(out)
}

/// The string opened by the quote at `chars[start]`, and how many characters it takes with
/// its quotes. The quote character is written twice to stand for itself (`'don''t'`).
fn string(chars: &[char], start: usize) -> Result<(String, usize), SyntaxError> {
    let quote = chars[start];
    let mut text = String::new();
    let mut j = start + 1;
    loop {
        match chars.get(j) {
            None => {
                return Err(SyntaxError {
                    offset: start,
                    expected: format!("a closing {quote} for the string that starts here"),
                    found: "the end of the query".into(),
                });
            }
            Some(&c) if c == quote => {
                if chars.get(j + 1) == Some(&quote) {
                    text.push(quote);
                    j += 2;
                } else {
                    return Ok((text, j + 1 - start));
                }
            }
            Some(&c) => {
                text.push(c);
                j += 1;
            }
        }
    }
}
