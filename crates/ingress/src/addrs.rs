//! Which socket addresses the server may open a connection to on a
//! customer's behalf: the deny list and the operator's exceptions.
//!
//! The deny list is every entry of the IANA *IPv4 and IPv6 Special-Purpose
//! Address Registries* (RFC 6890 and its updates), the IPv4 multicast and
//! reserved blocks, and — for IPv6 — everything outside global unicast
//! (`2000::/3`). It deliberately includes the few special-purpose blocks the
//! registry marks "globally reachable" (AS112, AMT, the anycast entries under
//! `2001::/23`): no customer media lives there, and a short list that is
//! obviously complete is easier to trust than one with holes cut into it.
//!
//! IPv6 forms that carry an IPv4 address are judged by that address, so
//! `::ffff:127.0.0.1`, `64:ff9b::7f00:1` and `2002:7f00:1::` are loopback:
//! * `::ffff:0:0/96` (IPv4-mapped; a dual-stack socket connects to the IPv4
//!   address) and `64:ff9b::/96` (the well-known NAT64 prefix, translated to the
//!   IPv4 address by the network) and `2002::/16` (6to4, relayed to the IPv4
//!   address) are allowed only when the embedded IPv4 address is;
//! * `::/96` (IPv4-compatible, deprecated), `64:ff9b:1::/48` (local-use NAT64:
//!   where the IPv4 address sits depends on the prefix length the local
//!   operator chose) and Teredo `2001::/32` are refused outright.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::str::FromStr;

pub use ipnet::IpNet;
use ipnet::{Ipv4Net, Ipv6Net};

/// IPv4 special-purpose, multicast and reserved blocks, with their registry names.
const DENIED_V4: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private-use (10.0.0.0/8)"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared address space (100.64.0.0/10)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "link-local (169.254.0.0/16)",
    ),
    (
        Ipv4Addr::new(172, 16, 0, 0),
        12,
        "private-use (172.16.0.0/12)",
    ),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "IETF protocol assignments (192.0.0.0/24)",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation TEST-NET-1 (192.0.2.0/24)",
    ),
    (
        Ipv4Addr::new(192, 31, 196, 0),
        24,
        "AS112-v4 (192.31.196.0/24)",
    ),
    (Ipv4Addr::new(192, 52, 193, 0), 24, "AMT (192.52.193.0/24)"),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "6to4 relay anycast (192.88.99.0/24)",
    ),
    (
        Ipv4Addr::new(192, 168, 0, 0),
        16,
        "private-use (192.168.0.0/16)",
    ),
    (
        Ipv4Addr::new(192, 175, 48, 0),
        24,
        "direct delegation AS112 (192.175.48.0/24)",
    ),
    (
        Ipv4Addr::new(198, 18, 0, 0),
        15,
        "benchmarking (198.18.0.0/15)",
    ),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation TEST-NET-2 (198.51.100.0/24)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation TEST-NET-3 (203.0.113.0/24)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved (240.0.0.0/4)"),
    (
        Ipv4Addr::new(255, 255, 255, 255),
        32,
        "limited broadcast (255.255.255.255/32)",
    ),
];

/// IPv6 special-purpose blocks inside `2000::/3` (everything outside it is
/// refused as "not global unicast"), with their registry names.
const DENIED_V6: &[(Ipv6Addr, u8, &str)] = &[
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments incl. Teredo (2001::/23)",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation (2001:db8::/32)",
    ),
    (
        Ipv6Addr::new(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0),
        48,
        "direct delegation AS112 (2620:4f:8000::/48)",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation (3fff::/20)",
    ),
];

/// Why an address is refused: the registry block it falls in. `None`: a
/// public address.
pub fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    DENIED_V4
        .iter()
        .find(|(net, len, _)| in_v4(ip, *net, *len))
        .map(|(_, _, name)| *name)
}

/// The IPv4 address an IPv6 address stands for (mapped, well-known NAT64,
/// 6to4), which it is judged by.
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if in_v6(ip, Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96)
        || in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96)
    {
        return Some(low32);
    }
    if in_v6(ip, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        return Some(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    None
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return special_v4(v4);
    }
    let seg = ip.segments();
    if seg[0] & 0xe000 != 0x2000 {
        // ::/128, ::1, ::/96 (compatible), 64:ff9b:1::/48, 100::/64, 5f00::/16,
        // fc00::/7, fe80::/10, fec0::/10, ff00::/8 and the unassigned rest.
        return Some(match seg[0] {
            0 => "unspecified, loopback or IPv4-compatible (::/96)",
            0x64 => "local-use NAT64 (64:ff9b:1::/48)",
            0x100 => "discard-only (100::/64)",
            s if s & 0xfe00 == 0xfc00 => "unique local (fc00::/7)",
            s if s & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
            s if s & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
            s if s & 0xff00 == 0xff00 => "multicast (ff00::/8)",
            _ => "not global unicast (outside 2000::/3)",
        });
    }
    DENIED_V6
        .iter()
        .find(|(net, len, _)| in_v6(ip, *net, *len))
        .map(|(_, _, name)| *name)
}

/// Ports the server may connect to, e.g. `80,443` or `80,443,8000-8999`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortList(pub Vec<RangeInclusive<u16>>);

impl PortList {
    /// Every port (for tests and trusted networks).
    pub fn any() -> Self {
        Self(vec![1..=u16::MAX])
    }

    pub fn allows(&self, port: u16) -> bool {
        self.0.iter().any(|r| r.contains(&port))
    }
}

impl Default for PortList {
    /// HTTP and HTTPS.
    fn default() -> Self {
        Self(vec![80..=80, 443..=443])
    }
}

impl FromStr for PortList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let port = |p: &str| -> Result<u16, String> {
            p.trim()
                .parse::<u16>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("`{p}` is not a port number (1–65535)"))
        };
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let range = match part.split_once('-') {
                Some((a, b)) => port(a)?..=port(b)?,
                None => port(part)?..=port(part)?,
            };
            if range.is_empty() {
                return Err(format!("`{part}`: the range is empty"));
            }
            out.push(range);
        }
        if out.is_empty() {
            return Err("at least one port is needed, e.g. 80,443".into());
        }
        Ok(Self(out))
    }
}

impl fmt::Display for PortList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            if r.start() == r.end() {
                write!(f, "{sep}{}", r.start())?;
            } else {
                write!(f, "{sep}{}-{}", r.start(), r.end())?;
            }
        }
        Ok(())
    }
}

/// Why a connection was not opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{addr}: port {} is not in the allowed list", addr.port())]
    Port { addr: SocketAddr },
    #[error("{addr}: {range} address")]
    Address {
        addr: SocketAddr,
        range: &'static str,
    },
}

/// Where outbound connections may go.
#[derive(Clone, Debug, Default)]
pub struct Destinations {
    /// Lift every check (development and tests on one machine only).
    pub allow_all: bool,
    /// Networks allowed although they are on the deny list (an operator's own
    /// media server); the port list still applies.
    pub allow_networks: Vec<IpNet>,
    pub ports: PortList,
}

impl Destinations {
    /// Whether a connection to `addr` may be opened.
    ///
    /// # Errors
    ///
    /// The reason it may not.
    pub fn check(&self, addr: SocketAddr) -> Result<(), Refusal> {
        if self.allow_all {
            return Ok(());
        }
        if !self.ports.allows(addr.port()) {
            return Err(Refusal::Port { addr });
        }
        // `::ffff:a.b.c.d` is a.b.c.d for the exceptions too.
        let ip = match addr.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        if self.allow_networks.iter().any(|n| n.contains(&ip)) {
            return Ok(());
        }
        match special_purpose(ip) {
            Some(range) => Err(Refusal::Address { addr, range }),
            None => Ok(()),
        }
    }
}

/// Parses one network of `--outbound-allow-networks`: `a.b.c.d/n`, `x::/n`
/// or a single address.
///
/// # Errors
///
/// A message naming the text.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => Ok(IpNet::V4(Ipv4Net::from(ip))),
        Ok(IpAddr::V6(ip)) => Ok(IpNet::V6(Ipv6Net::from(ip))),
        Err(_) => Err(format!(
            "`{text}` is not a network like 10.1.0.0/16, fd00::/8 or 192.0.2.7"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lists_parse_and_print() {
        let p: PortList = "80, 443,8000-8999".parse().unwrap();
        assert!(p.allows(80) && p.allows(8500) && !p.allows(8080 - 81) && !p.allows(9000));
        assert_eq!(p.to_string(), "80,443,8000-8999");
        assert_eq!(PortList::default().to_string(), "80,443");
        for bad in ["", "0", "x", "90-80", "70000"] {
            assert!(bad.parse::<PortList>().is_err(), "{bad}");
        }
    }

    #[test]
    fn networks_parse() {
        assert_eq!(
            parse_network("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_network("127.0.0.1").unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        assert!(parse_network("localhost").is_err());
    }
}
