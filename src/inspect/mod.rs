//! What is inside a credential: X.509 certificates (validity, subject, issuer, who signed
//! them) and JWT bearer tokens (`exp` and the service account they name).
//!
//! kubefix never trusts or rejects a credential on its own: these readings feed rules that
//! warn before a certificate or token expires and that decide whether fresher credentials
//! from the node may replace stale ones.

pub mod cert;
pub mod expiry;
pub mod token;

pub use cert::{Cert, Identity};
pub use expiry::{ExpiryRow, ExpiryStatus};
pub use token::Jwt;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds in a day.
pub const DAY: i64 = 24 * 60 * 60;

/// Now, in seconds since the Unix epoch.
pub fn now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// `2026-11-23T10:15:00Z` for a Unix timestamp.
pub fn rfc3339(ts: i64) -> String {
    let t = if ts >= 0 {
        UNIX_EPOCH + Duration::from_secs(ts as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(ts.unsigned_abs())
    };
    humantime::format_rfc3339_seconds(t).to_string()
}

/// `2026-11-23` for a Unix timestamp.
pub fn date(ts: i64) -> String {
    rfc3339(ts).chars().take(10).collect()
}

/// Whole days from `now` until `ts` (negative once past), rounded towards minus infinity.
pub fn days_left(ts: i64, now: i64) -> i64 {
    (ts - now).div_euclid(DAY)
}

/// Decode a `*-data` value (standard base64; line breaks and spaces ignored).
pub fn decode_data(value: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let compact: String = value.split_ascii_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("not valid base64 ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_days() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(86_400 * 365), "1971-01-01");
        assert_eq!(days_left(10 * DAY + 5, 0), 10);
        assert_eq!(days_left(-5, 0), -1);
        assert_eq!(decode_data("aGVs\n bG8=").unwrap(), b"hello");
        assert!(decode_data("not base64!").is_err());
    }
}
