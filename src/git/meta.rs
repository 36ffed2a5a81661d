//! What a finding says about its commit: the author and the date as RFC 3339.

use git2::{Oid, Repository, Signature};

/// `Name <email>` and the author date in RFC 3339, for a finding's commit.
pub fn author_and_date(repo: &Repository, oid: Oid) -> (String, String) {
    match repo.find_commit(oid) {
        Ok(c) => who_and_when(&c.author()),
        Err(_) => (String::new(), String::new()),
    }
}

/// `Name <email>` and the signature's date in RFC 3339 (an author, a tagger).
pub fn who_and_when(sig: &Signature<'_>) -> (String, String) {
    let name = String::from_utf8_lossy(sig.name_bytes()).into_owned();
    let email = String::from_utf8_lossy(sig.email_bytes()).into_owned();
    let t = sig.when();
    (
        format!("{name} <{email}>"),
        rfc3339(t.seconds(), t.offset_minutes()),
    )
}

/// `2024-01-02T03:04:05+01:00` (or `Z` at UTC), the date as its author's clock showed it.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    // Times come from commit objects and servers: a wild one must not overflow.
    let local = seconds.saturating_add(i64::from(offset_minutes) * 60);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let zone = if offset_minutes == 0 {
        "Z".to_string()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let off = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", off / 60, off % 60)
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_704_164_645, 0), "2024-01-02T03:04:05Z");
        assert_eq!(rfc3339(1_704_164_645, 90), "2024-01-02T04:34:05+01:30");
        assert_eq!(rfc3339(1_704_164_645, -300), "2024-01-01T22:04:05-05:00");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59Z");
    }
}
