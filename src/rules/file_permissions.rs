//! `file-permissions`: a kubeconfig that group or others may read or write.
//!
//! What breaks: nothing you would notice, which is the problem. A kubeconfig holds client
//! keys and tokens; anyone who can read it can act as you on your clusters, and anyone who
//! can write it can point your kubectl elsewhere. kubectl itself writes kubeconfigs with
//! mode 0600, and Helm warns `WARNING: Kubernetes configuration file is group-readable. This
//! is insecure.` (or `world-readable`).
//!
//! Detection: the permission bits of the file (of a symlink's target) allow group or
//! others anything.
//!
//! Fix: with `--apply`, the group and other bits are removed (0644 becomes 0600, 0444
//! becomes 0400). The text is not touched, so no backup is needed for it;
//! the plan shows the mode change.

use std::os::unix::fs::PermissionsExt;

use super::support::{Context, Finding, Rule, Severity};

rule!(FilePermissionsRule, "file-permissions", fixes, "kubeconfigs that group or others may read or write (they hold credentials); removes the group and other permission bits");

impl Rule for FilePermissionsRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let Ok(meta) = std::fs::metadata(cx.path) else {
            return; // not a file on disk (planned from memory)
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 == 0 {
            return;
        }
        // Take group and others away; the owner keeps exactly what it had (0644 -> 0600,
        // a read-only 0444 -> 0400).
        let new = mode & 0o7700;
        let who = match (mode & 0o070 != 0, mode & 0o007 != 0) {
            (true, true) => "group and others",
            (true, false) => "its group",
            _ => "others",
        };
        let what = if mode & 0o022 != 0 {
            "read or write"
        } else {
            "read"
        };
        let helm_word = if mode & 0o004 != 0 { "world" } else { "group" };
        out.push(
            Finding::new(
                ID,
                Severity::Warning,
                1,
                format!(
                    "mode {mode:04o} lets {who} {what} this kubeconfig and the credentials in it"
                ),
            )
            .hint(format!(
                "kubectl does not complain, but Helm does: \"WARNING: Kubernetes configuration file is {helm_word}-readable. This is insecure.\""
            ))
            .fix_mode(format!("set mode {mode:04o} -> {new:04o}"), new),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::super::support::{Context, RuleOptions};
    use super::*;
    use crate::kubeconfig::Kubeconfig;
    use crate::yaml::Document;

    const SRC: &str = "apiVersion: v1\nkind: Config\nclusters: []\n";

    /// The rule's findings for a kubeconfig at `path`.
    fn check_at(path: &Path) -> Vec<Finding> {
        let doc = Document::parse(SRC).unwrap();
        let view = Kubeconfig::new(&doc).unwrap();
        let mut out = Vec::new();
        FilePermissionsRule.check(
            &Context::new(path, &view, &RuleOptions::default()),
            &mut out,
        );
        out
    }

    fn with_mode(mode: u32) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, SRC).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn world_readable_loses_group_and_other_bits() {
        let (_dir, path) = with_mode(0o644);
        let f = check_at(&path);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "file-permissions");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].line, 1);
        assert_eq!(
            f[0].message,
            "mode 0644 lets group and others read this kubeconfig and the credentials in it"
        );
        assert!(f[0].hint.as_deref().unwrap().contains("is world-readable"));
        let fix = f[0].fix.as_ref().expect("a fix");
        assert_eq!(fix.title, "set mode 0644 -> 0600");
        assert_eq!(fix.mode, Some(0o600));
        assert!(fix.changes.is_empty(), "the text is not touched");
    }

    #[test]
    fn group_writable_read_only_owner_keeps_its_bits() {
        let (_dir, path) = with_mode(0o460);
        let f = check_at(&path);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "mode 0460 lets its group read or write this kubeconfig and the credentials in it"
        );
        assert!(f[0].hint.as_deref().unwrap().contains("is group-readable"));
        assert_eq!(f[0].fix.as_ref().unwrap().mode, Some(0o400));
    }

    #[test]
    fn owner_only_and_files_not_on_disk_are_silent() {
        let (_dir, path) = with_mode(0o600);
        assert!(check_at(&path).is_empty());
        assert!(check_at(Path::new("/nonexistent-kubefix-test/config")).is_empty());
    }
}
