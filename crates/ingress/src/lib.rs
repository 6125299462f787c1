//! What comes in from outside: customer URLs and uploaded bytes.
//!
//! Both the API (at submission) and the pipeline (while processing) judge
//! input a customer controls: a `mediaUrl` or callback URL the server is asked
//! to call, and the bytes of an upload. This crate holds those checks, below
//! both, so that the API does not link the recogniser (whisper.cpp) just to
//! check a URL or sniff an upload.
//!
//! # Layout
//! * [`addrs`] — the deny list (IANA special-purpose registries) and [`Destinations`]: which
//!   socket addresses and ports outbound connections may use.
//! * [`outbound`] — [`Outbound`], the HTTP client for customer URLs, whose connector checks
//!   every socket address it is about to connect to (redirect hops and IP literals included).
//! * [`urls`] — [`UrlPolicy`], [`check_url`] (what a URL's text shows), [`http_client`] and
//!   [`check_reachable`], the submission-time probe.
//! * [`sniff`] — the upload-time check that the head of an upload is media with audio.
//! * [`child`] — ffprobe/ffmpeg as child processes under a deadline that covers the whole
//!   child lifetime (including writing its input), killed when their guard drops.
//! * [`tools`] — how ffprobe/ffmpeg run on customer media: the demuxer and protocol
//!   allow-lists, rlimits, the bubblewrap sandbox, deadlines and the longest media accepted
//!   (one process-wide policy, decided at start).
//! * [`metrics`] — the names and help texts of the pipeline's metrics, which the API's
//!   recorder set-up needs too.

pub mod addrs;
pub mod child;
pub mod metrics;
pub mod outbound;
pub mod sniff;
pub mod tools;
pub mod urls;

pub use addrs::{Destinations, PortList, Refusal};
pub use outbound::{Outbound, OutboundError, Redirects};
pub use urls::{UNREACHABLE, UrlPolicy, check_reachable, check_url, http_client};
