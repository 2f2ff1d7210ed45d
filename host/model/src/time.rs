//! Wall-clock seconds, and how they are written for people and for Magento.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn at(secs: u64) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)
}

/// `2026-11-27 10:30:00 UTC` for Unix seconds.
pub fn utc_text(secs: u64) -> String {
    at(secs).map_or_else(
        || format!("{secs} (Unix seconds)"),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// RFC 3339 for Unix seconds (`2026-11-27T10:30:00Z`), as SCIM's `meta` carries it.
pub fn rfc3339(secs: u64) -> String {
    let t = at(secs).unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Magento's timestamp format for Unix seconds (`2026-11-27 10:30:00`, UTC).
pub fn magento_time(unix: u64) -> String {
    let t = at(unix).unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_text_reads_as_a_date() {
        assert_eq!(super::utc_text(1_795_775_400), "2026-11-27 10:30:00 UTC");
    }
}
