//! Property tests of the destination check over the deny list. The ranges
//! are written out here again from the IANA registries (not taken from the
//! crate), so a block dropped from the crate's table fails these tests.
//!
//! Each property runs proptest's default 256 cases; with one property per
//! range family that is a few thousand addresses per run, in well under a
//! second.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;
use sealscribe_ingress::{Destinations, PortList};

const V4: &[(&str, u8)] = &[
    ("0.0.0.0", 8),
    ("10.0.0.0", 8),
    ("100.64.0.0", 10),
    ("127.0.0.0", 8),
    ("169.254.0.0", 16),
    ("172.16.0.0", 12),
    ("192.0.0.0", 24),
    ("192.0.2.0", 24),
    ("192.88.99.0", 24),
    ("192.168.0.0", 16),
    ("198.18.0.0", 15),
    ("198.51.100.0", 24),
    ("203.0.113.0", 24),
    ("224.0.0.0", 4),
    ("240.0.0.0", 4),
    ("255.255.255.255", 32),
];

const V6: &[(&str, u8)] = &[
    ("::", 128),
    ("::1", 128),
    ("::", 96),
    ("64:ff9b:1::", 48),
    ("100::", 64),
    ("2001::", 23),
    ("2001::", 32),
    ("2001:db8::", 32),
    ("fc00::", 7),
    ("fe80::", 10),
    ("fec0::", 10),
    ("ff00::", 8),
];

fn checker() -> Destinations {
    Destinations {
        ports: PortList::any(),
        ..Destinations::default()
    }
}

fn allowed(ip: IpAddr) -> bool {
    checker().check(SocketAddr::new(ip, 443)).is_ok()
}

fn v4_in(range: usize, host: u32) -> Ipv4Addr {
    let (net, len) = V4[range];
    let net = u32::from(net.parse::<Ipv4Addr>().unwrap());
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    Ipv4Addr::from((net & mask) | (host & !mask))
}

fn v6_in(range: usize, host: u128) -> Ipv6Addr {
    let (net, len) = V6[range];
    let net = u128::from(net.parse::<Ipv6Addr>().unwrap());
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    Ipv6Addr::from((net & mask) | (host & !mask))
}

fn in_any_v4(ip: Ipv4Addr) -> bool {
    (0..V4.len()).any(|i| v4_in(i, u32::from(ip)) == ip)
}

/// The IPv6 forms that stand for an IPv4 address.
fn v6_forms(v4: Ipv4Addr) -> [Ipv6Addr; 3] {
    let bits = u128::from(u32::from(v4));
    [
        v4.to_ipv6_mapped(),
        Ipv6Addr::from(u128::from("64:ff9b::".parse::<Ipv6Addr>().unwrap()) | bits),
        Ipv6Addr::from((0x2002u128 << 112) | (bits << 80) | 0x1234),
    ]
}

const PUBLIC_V4: &[&str] = &[
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "151.101.1.69",
    "9.9.9.9",
];
const PUBLIC_V6: &[&str] = &[
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001::200e",
];

proptest! {
    #[test]
    fn every_address_of_a_denied_v4_range_is_refused(range in 0..V4.len(), host: u32) {
        let ip = v4_in(range, host);
        prop_assert!(!allowed(IpAddr::V4(ip)), "{ip} allowed");
    }

    #[test]
    fn mapped_nat64_and_6to4_forms_of_denied_v4_are_refused(range in 0..V4.len(), host: u32) {
        let v4 = v4_in(range, host);
        for v6 in v6_forms(v4) {
            prop_assert!(!allowed(IpAddr::V6(v6)), "{v6} ({v4}) allowed");
        }
    }

    #[test]
    fn every_address_of_a_denied_v6_range_is_refused(range in 0..V6.len(), host: u128) {
        let ip = v6_in(range, host);
        prop_assert!(!allowed(IpAddr::V6(ip)), "{ip} allowed");
    }

    #[test]
    fn other_v4_addresses_and_their_v6_forms_are_allowed(bits: u32) {
        let ip = Ipv4Addr::from(bits);
        // The crate also refuses a few blocks the registry marks globally
        // reachable (AS112, AMT); leave them out of "should be allowed".
        let extra = ["192.31.196.0", "192.52.193.0", "192.175.48.0"]
            .iter()
            .any(|n| ip.octets()[..3] == n.parse::<Ipv4Addr>().unwrap().octets()[..3]);
        prop_assume!(!in_any_v4(ip) && !extra);
        prop_assert!(allowed(IpAddr::V4(ip)), "{ip} refused");
        for v6 in v6_forms(ip) {
            prop_assert!(allowed(IpAddr::V6(v6)), "{v6} ({ip}) refused");
        }
    }

    #[test]
    fn ports_outside_the_list_are_refused(port: u16) {
        let d = Destinations::default();
        let ok = d.check(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)), port)).is_ok();
        prop_assert_eq!(ok, port == 80 || port == 443);
    }
}

#[test]
fn known_public_addresses_are_allowed() {
    for ip in PUBLIC_V4 {
        let ip: Ipv4Addr = ip.parse().unwrap();
        assert!(allowed(IpAddr::V4(ip)), "{ip}");
        for v6 in v6_forms(ip) {
            assert!(allowed(IpAddr::V6(v6)), "{v6}");
        }
    }
    for ip in PUBLIC_V6 {
        assert!(allowed(ip.parse().unwrap()), "{ip}");
    }
}

#[test]
fn named_edges_of_the_registries() {
    for ip in [
        "0.0.0.0",
        "169.254.169.254",
        "100.127.255.255",
        "198.19.255.255",
        "192.0.0.170",
        "255.255.255.255",
        "::",
        "::1",
        "::7f00:1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2002:a9fe:a9fe::1",
        "fd00:ec2::254",
        "fec0::1",
        "3fff::1",
        "5f00::1",
    ] {
        assert!(!allowed(ip.parse().unwrap()), "{ip}");
    }
    for ip in [
        "100.63.255.255",
        "100.128.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "2002:808:808::1",
    ] {
        assert!(allowed(ip.parse().unwrap()), "{ip}");
    }
}

#[test]
fn allowed_networks_lift_the_deny_list_but_not_the_ports() {
    let d = Destinations {
        allow_all: false,
        allow_networks: vec![sealscribe_ingress::addrs::parse_network("10.20.0.0/16").unwrap()],
        ports: PortList::default(),
    };
    let at = |ip: &str, port| d.check(SocketAddr::new(ip.parse().unwrap(), port)).is_ok();
    assert!(at("10.20.1.2", 443));
    assert!(at("::ffff:10.20.1.2", 80));
    assert!(!at("10.20.1.2", 8080));
    assert!(!at("10.21.0.1", 443));
    assert!(!at("127.0.0.1", 80));
}
