//! The multipart/form-data reader of the upload calls, with its limits enforced
//! before anything is buffered.
//!
//! Why our own: the general-purpose parser axum ships (multer) keeps every byte
//! it has not yet matched while it looks for the first boundary or the end of a
//! part's headers, and searches that whole buffer again on each new chunk. A
//! 400 MB body without its boundary grew the server by ~190 MB and kept a core
//! busy for a minute. Here each byte is scanned a bounded number of times, and
//! what is held is at most one incoming chunk plus a part-header block:
//!
//! - bytes before the first boundary are counted and dropped (all but the last
//!   few that could start the boundary), refused past [`MultipartLimits::preamble`];
//! - a part's header block is refused past [`MultipartLimits::part_header`]
//!   (searched for its end only in the bytes not searched yet);
//! - parts are counted as they start, refused past [`MultipartLimits::parts`];
//! - part bodies are handed on as they come, keeping back only a possible
//!   partial delimiter.
//!
//! [`Parser`] is the sans-IO state machine (property-tested: any bytes, any
//! boundary, any split into chunks, never a panic and never more held than the
//! bound); [`Multipart`] drives it from a request body for the handlers.

use std::fmt;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::{Buf, Bytes, BytesMut};
use futures_util::StreamExt;
use sealscribe_domain::codes;

use crate::ApiError;
use crate::limits::BodyError;
pub use crate::limits::MultipartLimits;

/// What is wrong with a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    PreambleTooLarge(usize),
    PartHeaderTooLarge(usize),
    TooManyParts(usize),
    /// Syntax: a part header that is not `Name: value`, a missing name….
    Malformed(String),
    /// The body ended before the closing boundary.
    Incomplete,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::PreambleTooLarge(n) => write!(
                f,
                "the body has more than {n} bytes before its first boundary (is the boundary in the \
                 Content-Type header the one the body uses?)"
            ),
            ParseError::PartHeaderTooLarge(n) => {
                write!(f, "a part's headers are longer than {n} bytes")
            }
            ParseError::TooManyParts(n) => write!(f, "the body has more than {n} parts"),
            ParseError::Malformed(why) => f.write_str(why),
            ParseError::Incomplete => {
                f.write_str("the body ended before its closing boundary (was the upload cut off?)")
            }
        }
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        let code = match e {
            ParseError::PreambleTooLarge(_) => codes::MULTIPART_PREAMBLE_TOO_LARGE,
            ParseError::PartHeaderTooLarge(_) => codes::PART_HEADER_TOO_LARGE,
            ParseError::TooManyParts(_) => codes::TOO_MANY_PARTS,
            ParseError::Malformed(_) | ParseError::Incomplete => codes::INVALID_REQUEST,
        };
        ApiError::bad_request(code, format!("Invalid multipart/form-data request: {e}."))
    }
}

/// The headers of one part that the handlers use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartHead {
    pub name: Option<String>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
}

/// What the parser found next.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A part starts (its body follows as [`Event::Data`]).
    Part(PartHead),
    /// Bytes of the current part's body.
    Data(Bytes),
    /// The closing boundary: nothing more.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter; `usize` bytes dropped so far.
    Preamble(usize),
    /// Just after a delimiter: `--` (the end) or a part's headers follow.
    AfterDelimiter,
    /// Looking for the blank line that ends a part's headers; bytes `..usize`
    /// of the buffer have been searched already.
    Headers(usize),
    Body,
    Done,
}

/// The sans-IO multipart state machine: [`Parser::push`] bytes in,
/// [`Parser::next_event`] events out, [`Parser::finish`] at the end of the body.
pub struct Parser {
    /// `\r\n--boundary`.
    delimiter: Vec<u8>,
    limits: MultipartLimits,
    buf: BytesMut,
    state: State,
    parts: usize,
    eof: bool,
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(headers: &HeaderMap) -> Result<String, ApiError> {
    let not_multipart = || {
        ApiError::bad_request(
            codes::INVALID_REQUEST,
            "This call takes a multipart/form-data body (e.g. `curl -F media=@file.wav`) with a \
             boundary in its Content-Type header.",
        )
    };
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(not_multipart)?;
    let (mime, params) = value.split_once(';').unwrap_or((value, ""));
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(not_multipart());
    }
    let boundary = parameters(params)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v)
        .ok_or_else(not_multipart)?;
    // RFC 2046: 1 to 70 characters.
    if boundary.is_empty() || boundary.len() > 70 || boundary.contains(['\r', '\n']) {
        return Err(ApiError::bad_request(
            codes::INVALID_REQUEST,
            "The multipart boundary must be 1 to 70 characters on one line.",
        ));
    }
    Ok(boundary)
}

impl Parser {
    pub fn new(boundary: &str, limits: MultipartLimits) -> Self {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        // The first delimiter may open the body without a line break before it:
        // a virtual one makes it look like every other.
        let mut buf = BytesMut::new();
        buf.extend_from_slice(b"\r\n");
        Self {
            delimiter,
            limits,
            buf,
            state: State::Preamble(0),
            parts: 0,
            eof: false,
        }
    }

    /// Bytes held, for the memory bound.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub fn push(&mut self, data: &[u8]) {
        if self.state != State::Done {
            self.buf.extend_from_slice(data);
        }
    }

    /// No more bytes will come.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// The next event, or `Ok(None)` when more bytes are needed.
    pub fn next_event(&mut self) -> Result<Option<Event>, ParseError> {
        let delim_len = self.delimiter.len();
        loop {
            match self.state {
                State::Done => return Ok(Some(Event::End)),
                State::Preamble(dropped) => {
                    if let Some(at) = memchr::memmem::find(&self.buf, &self.delimiter) {
                        self.check_preamble(dropped + at)?;
                        self.buf.advance(at + delim_len);
                        self.state = State::AfterDelimiter;
                        continue;
                    }
                    // Keep only what could be the start of the delimiter.
                    let drop = self.buf.len().saturating_sub(delim_len - 1);
                    self.buf.advance(drop);
                    self.check_preamble(dropped + drop)?;
                    self.state = State::Preamble(dropped + drop);
                    return self.need_more();
                }
                State::AfterDelimiter => {
                    if self.buf.len() < 2 {
                        return self.need_more();
                    }
                    if &self.buf[..2] == b"--" {
                        // The closing delimiter; the epilogue is ignored.
                        self.state = State::Done;
                        self.buf = BytesMut::new();
                        return Ok(Some(Event::End));
                    }
                    self.parts += 1;
                    if self.parts > self.limits.parts {
                        return Err(ParseError::TooManyParts(self.limits.parts));
                    }
                    self.state = State::Headers(0);
                }
                State::Headers(searched) => {
                    // The block runs from the end of the delimiter line (padding
                    // and its CRLF) to the blank line: search for CRLF CRLF.
                    let from = searched.saturating_sub(3);
                    match memchr::memmem::find(&self.buf[from..], b"\r\n\r\n") {
                        Some(rel) => {
                            let end = from + rel;
                            if end > self.limits.part_header {
                                return Err(ParseError::PartHeaderTooLarge(
                                    self.limits.part_header,
                                ));
                            }
                            let block = self.buf.split_to(end + 4);
                            let head = part_head(&block[..end + 2])?;
                            self.state = State::Body;
                            return Ok(Some(Event::Part(head)));
                        }
                        None => {
                            if self.buf.len() > self.limits.part_header + 3 {
                                return Err(ParseError::PartHeaderTooLarge(
                                    self.limits.part_header,
                                ));
                            }
                            self.state = State::Headers(self.buf.len());
                            return self.need_more();
                        }
                    }
                }
                State::Body => {
                    if let Some(at) = memchr::memmem::find(&self.buf, &self.delimiter) {
                        let data = self.buf.split_to(at).freeze();
                        self.buf.advance(delim_len);
                        self.state = State::AfterDelimiter;
                        if data.is_empty() {
                            continue;
                        }
                        return Ok(Some(Event::Data(data)));
                    }
                    // Hand on all but what could be the start of the delimiter.
                    let safe = self.buf.len().saturating_sub(delim_len - 1);
                    if safe > 0 {
                        return Ok(Some(Event::Data(self.buf.split_to(safe).freeze())));
                    }
                    return self.need_more();
                }
            }
        }
    }

    fn check_preamble(&self, dropped: usize) -> Result<(), ParseError> {
        // The virtual CRLF is not the client's.
        if dropped.saturating_sub(2) > self.limits.preamble {
            return Err(ParseError::PreambleTooLarge(self.limits.preamble));
        }
        Ok(())
    }

    fn need_more(&self) -> Result<Option<Event>, ParseError> {
        if self.eof {
            return Err(ParseError::Incomplete);
        }
        Ok(None)
    }
}

/// Reads a part's header block: transport padding, CRLF, then `Name: value`
/// lines each ending in CRLF.
fn part_head(block: &[u8]) -> Result<PartHead, ParseError> {
    let text = String::from_utf8_lossy(block);
    let mut lines = text.split("\r\n");
    let padding = lines.next().unwrap_or_default();
    if !padding.bytes().all(|b| b == b' ' || b == b'\t') {
        return Err(ParseError::Malformed(
            "a boundary line has text after the boundary".into(),
        ));
    }
    let mut head = PartHead::default();
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(ParseError::Malformed(format!(
                "a part header is not `Name: value`: {:?}",
                truncate(line)
            )));
        };
        let value = value.trim();
        if name.trim().eq_ignore_ascii_case("content-disposition") {
            let (kind, params) = value.split_once(';').unwrap_or((value, ""));
            if !kind.trim().eq_ignore_ascii_case("form-data") {
                return Err(ParseError::Malformed(
                    "a part's Content-Disposition is not form-data".into(),
                ));
            }
            for (k, v) in parameters(params) {
                if k.eq_ignore_ascii_case("name") {
                    head.name = Some(v);
                } else if k.eq_ignore_ascii_case("filename") {
                    head.file_name = Some(v);
                }
            }
        } else if name.trim().eq_ignore_ascii_case("content-type") {
            head.content_type = Some(value.to_owned());
        }
    }
    Ok(head)
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// `; key=value; key="quoted \" value"` parameters, in order.
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        // Skip separators and spaces.
        while chars.next_if(|c| *c == ';' || c.is_whitespace()).is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ';')).collect();
        if key.is_empty() && chars.peek().is_none() {
            return out;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| *c == ' ').is_some() {}
            if chars.next_if_eq(&'"').is_some() {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => value.extend(chars.next()),
                        c => value.push(c),
                    }
                }
                // Anything up to the next `;` after a quoted value is ignored.
                while chars.next_if(|c| *c != ';').is_some() {}
            } else {
                value = std::iter::from_fn(|| chars.next_if(|c| *c != ';')).collect();
                value.truncate(value.trim_end().len());
            }
        }
        let key = key.trim();
        if !key.is_empty() {
            out.push((key.to_owned(), value));
        }
    }
}

/// A request body read as multipart parts, one after the other.
pub struct Multipart {
    body: axum::body::BodyDataStream,
    parser: Parser,
    /// A part header met while a part's body was being read.
    next: Option<PartHead>,
    ended: bool,
}

impl Multipart {
    pub fn new(body: Body, boundary: &str, limits: MultipartLimits) -> Self {
        Self {
            body: body.into_data_stream(),
            parser: Parser::new(boundary, limits),
            next: None,
            ended: false,
        }
    }

    /// The next event, reading the body as needed.
    async fn event(&mut self) -> Result<Event, ApiError> {
        loop {
            if let Some(e) = self.parser.next_event()? {
                return Ok(e);
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.parser.push(&chunk),
                Some(Err(e)) => return Err(body_error(e)),
                None => self.parser.finish(),
            }
        }
    }

    /// The next part (its body unread), skipping what is left of the current one.
    pub async fn next_part(&mut self) -> Result<Option<Part<'_>>, ApiError> {
        loop {
            if let Some(head) = self.next.take() {
                return Ok(Some(Part { head, owner: self }));
            }
            if self.ended {
                return Ok(None);
            }
            match self.event().await? {
                Event::Part(head) => self.next = Some(head),
                Event::Data(_) => {}
                Event::End => self.ended = true,
            }
        }
    }
}

/// One part; [`Part::chunk`] reads its body.
pub struct Part<'a> {
    head: PartHead,
    owner: &'a mut Multipart,
}

impl Part<'_> {
    pub fn name(&self) -> Option<&str> {
        self.head.name.as_deref()
    }

    pub fn file_name(&self) -> Option<&str> {
        self.head.file_name.as_deref()
    }

    pub fn content_type(&self) -> Option<&str> {
        self.head.content_type.as_deref()
    }

    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, ApiError> {
        if self.owner.next.is_some() || self.owner.ended {
            return Ok(None);
        }
        match self.owner.event().await? {
            Event::Data(b) => Ok(Some(b)),
            Event::Part(head) => {
                self.owner.next = Some(head);
                Ok(None)
            }
            Event::End => {
                self.owner.ended = true;
                Ok(None)
            }
        }
    }
}

/// A body that failed while read: over the raw cap (413), idle too long (408),
/// or the connection broke.
fn body_error(e: axum::Error) -> ApiError {
    if let Some(limit) = BodyError::find(&e) {
        return limit.to_api_error();
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::INVALID_REQUEST,
        "The request body could not be read (the connection broke off).",
    )
}

#[cfg(test)]
mod tests;
