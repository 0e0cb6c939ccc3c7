//! kubefix's backups: how one is named (`<file>.kubefix-YYYYMMDDTHHMMSSZ[-N].bak`), how a
//! name is parsed back, which files in a directory are trusted as ours (see the `restore`
//! module for the trust rules), listing them oldest first, and pruning to `--keep-backups`.
//! Where they live is [`crate::restore::backup_location`] (it resolves the file through
//! `persist`, which writes them).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::privilege::{self, Owner};

/// `config.kubefix-20261123T101500Z.bak`: sortable, and recognisably ours.
pub fn backup_name(file_name: &str, now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    let stamp: String = stamp.chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{file_name}.kubefix-{stamp}.bak")
}

/// One kubefix backup of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    /// The UTC time in its name (when it was taken).
    pub time: SystemTime,
    /// The `-N` suffix (0 without one).
    pub seq: u32,
    pub size: u64,
}

/// The time and sequence number of `name` if it is exactly a kubefix backup name of
/// `file_name`, else `None`.
pub fn parse_backup_name(name: &str, file_name: &str) -> Option<(SystemTime, u32)> {
    let rest = name
        .strip_prefix(file_name)?
        .strip_prefix(".kubefix-")?
        .strip_suffix(".bak")?;
    let (stamp, seq) = match rest.split_once('-') {
        Some((stamp, seq)) => {
            if seq.is_empty() || seq.starts_with('0') || !seq.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (stamp, seq.parse().ok()?)
        }
        None => (rest, 0),
    };
    // YYYYMMDDTHHMMSSZ
    let b = stamp.as_bytes();
    if b.len() != 16
        || b[8] != b'T'
        || b[15] != b'Z'
        || !b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
    {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    let time = humantime::parse_rfc3339(&rfc).ok()?;
    Some((time, seq))
}

/// How far in the future a backup's name may be dated (clocks of machines sharing a
/// directory disagree a little); anything later was not written by kubefix.
pub const CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Why a file named like a backup is not trusted as one of ours, if it is not: see the module
/// documentation. Ours means owned by the effective user, which is the file's owner when
/// kubefix runs as root (it acts as them).
pub fn distrust(meta: &fs::Metadata, time: SystemTime, now: SystemTime) -> Option<&'static str> {
    if meta.uid() != privilege::euid() {
        Some("it belongs to another user")
    } else if meta.mode() & 0o022 != 0 {
        Some("others can write to it")
    } else if time > now + CLOCK_SKEW {
        Some("it is dated in the future")
    } else {
        None
    }
}

/// Whether users other than the effective one can add, rename or delete files in the
/// directory `meta` describes: it belongs to another user (not root), or group or others
/// may write it without the sticky bit. A group named after the user that is their own
/// primary group (a user-private group) does not count as others.
pub fn dir_open_to_others(meta: &fs::Metadata) -> bool {
    let me = privilege::euid();
    if meta.uid() != me && meta.uid() != 0 {
        return true;
    }
    let mode = meta.mode();
    if mode & 0o1000 != 0 {
        return false; // sticky: only a file's owner can rename or delete it
    }
    if mode & 0o002 != 0 {
        return true;
    }
    if mode & 0o020 != 0 {
        let owner = Owner::of_uid(me, privilege::Owner::of_uid(me, 0).gid);
        let private = meta.gid() == owner.gid
            && owner.name.is_some()
            && privilege::group_name(meta.gid()) == owner.name;
        return !private;
    }
    false
}

/// The kubefix backups of a file in a directory: the trusted ones, oldest first, and the
/// files named like backups that are not trusted, with the reason.
#[derive(Debug, Default)]
pub struct Scan {
    pub backups: Vec<Backup>,
    pub ignored: Vec<(PathBuf, &'static str)>,
}

/// Trusted kubefix backups of `file_name` in `dir`, oldest first. A missing directory has
/// none.
pub fn list_backups(dir: &Path, file_name: &str) -> std::io::Result<Vec<Backup>> {
    scan_backups(dir, file_name).map(|s| s.backups)
}

/// [`list_backups`], and what was left out and why.
pub fn scan_backups(dir: &Path, file_name: &str) -> std::io::Result<Scan> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Scan::default()),
        Err(e) => return Err(e),
    };
    let open_dir = dir_open_to_others(&fs::metadata(dir)?);
    let now = SystemTime::now();
    let mut out = Scan::default();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((time, seq)) = parse_backup_name(name, file_name) else {
            continue;
        };
        // Regular files only: never follow or count a symlink or directory of that name.
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        let why = if open_dir {
            Some("other users can write to its directory")
        } else {
            distrust(&meta, time, now)
        };
        if let Some(why) = why {
            out.ignored.push((entry.path(), why));
            continue;
        }
        out.backups.push(Backup {
            path: entry.path(),
            time,
            seq,
            size: meta.len(),
        });
    }
    out.backups
        .sort_by(|a, b| (a.time, a.seq, &a.path).cmp(&(b.time, b.seq, &b.path)));
    out.ignored.sort();
    Ok(out)
}

/// Delete the oldest kubefix backups of `file_name` in `dir` so that at most `keep` remain;
/// `keep == 0` keeps all. `just_written` is never deleted (even if the clock went backwards
/// and it sorts oldest). Returns what was deleted; failures to delete are skipped.
pub fn prune_backups(
    dir: &Path,
    file_name: &str,
    keep: usize,
    just_written: &Path,
) -> Vec<PathBuf> {
    if keep == 0 {
        return Vec::new();
    }
    let Ok(all) = list_backups(dir, file_name) else {
        return Vec::new();
    };
    let (mine, others): (Vec<Backup>, Vec<Backup>) =
        all.into_iter().partition(|b| b.path == just_written);
    let keep_others = keep.saturating_sub(mine.len().max(1));
    let excess = others.len().saturating_sub(keep_others);
    let mut deleted = Vec::new();
    for b in others.into_iter().take(excess) {
        if fs::remove_file(&b.path).is_ok() {
            deleted.push(b.path);
        }
    }
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn backup_names_parse_strictly() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let name = backup_name("config", t);
        assert_eq!(parse_backup_name(&name, "config"), Some((t, 0)));
        assert_eq!(
            parse_backup_name("config.kubefix-20261118T110640Z-3.bak", "config"),
            Some((t, 3))
        );
        for bad in [
            "config.kubefix-20261118T110640Z.bak.tmp",
            "config.kubefix-20261118T110640Z-.bak",
            "config.kubefix-20261118T110640Z-03.bak",
            "config.kubefix-20261118T110640Z-x.bak",
            "config.kubefix-2026111T110640Z.bak",
            "config.kubefix-20261318T110640Z.bak",
            "other.kubefix-20261118T110640Z.bak",
            "xconfig.kubefix-20261118T110640Z.bak",
            ".config.kubefix-abc123.tmp",
            "config.kubefix-20261118T110640Z.bak.kubefix-20261118T110640Z.bak",
            "config.bak",
        ] {
            assert_eq!(parse_backup_name(bad, "config"), None, "{bad}");
        }
    }

    #[test]
    fn prune_keeps_the_newest_and_touches_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut names = Vec::new();
        for i in 0..5 {
            let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000 + i * 60);
            let n = backup_name("config", t);
            fs::write(d.join(&n), "x").unwrap();
            names.push(n);
        }
        let others = [
            "config",
            "config.bak",
            "other.kubefix-20261118T110640Z.bak",
            ".config.kubefix-abc123.tmp",
        ];
        for o in others {
            fs::write(d.join(o), "keep").unwrap();
        }
        // A directory with a backup's name is not a backup.
        fs::create_dir(d.join("config.kubefix-20201118T110640Z.bak")).unwrap();
        let newest = d.join(&names[4]);
        let deleted = prune_backups(d, "config", 2, &newest);
        assert_eq!(
            deleted,
            vec![d.join(&names[0]), d.join(&names[1]), d.join(&names[2])]
        );
        assert!(newest.exists() && d.join(&names[3]).exists());
        for o in others {
            assert_eq!(fs::read_to_string(d.join(o)).unwrap(), "keep");
        }
        assert!(d.join("config.kubefix-20201118T110640Z.bak").is_dir());
        // The backup just written survives even when it sorts oldest.
        let old = d.join(backup_name("config", UNIX_EPOCH));
        fs::write(&old, "x").unwrap();
        let deleted = prune_backups(d, "config", 1, &old);
        assert_eq!(deleted.len(), 2);
        assert!(old.exists());
        // 0 keeps everything.
        assert!(prune_backups(d, "config", 0, &old).is_empty());
    }
}
