//! Memory readings from `/proc/<pid>/status` (Linux). Tests that promise
//! "memory stays flat" (streaming uploads, sealing, decryption) measure the
//! resident set (`VmRSS`) and its high-water mark (`VmHWM`) here.

/// A `kB` field of `/proc/<pid>/status` (`"self"` for this process), e.g.
/// `status_kib("self", "VmHWM")`; `None` when the process is gone or the field
/// is missing.
pub fn try_status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// [`try_status_kib`], panicking when the field cannot be read.
pub fn status_kib(pid: &str, field: &str) -> u64 {
    try_status_kib(pid, field).unwrap_or_else(|| panic!("{field} not in /proc/{pid}/status"))
}

/// Resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(&pid.to_string(), "VmRSS")
}

/// Peak resident memory of process `pid`, in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(&pid.to_string(), "VmHWM")
}

/// Peak resident memory of this process in MiB, for bench reports (NaN where
/// `/proc` cannot tell).
pub fn own_peak_mib() -> f64 {
    try_status_kib("self", "VmHWM").map_or(f64::NAN, mib)
}

/// KiB as MiB, for reports.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let rss = rss_kib(std::process::id());
        assert!(rss > 0 && peak_rss_kib(std::process::id()) >= rss);
        assert_eq!(try_status_kib("self", "NoSuchField"), None);
    }
}
