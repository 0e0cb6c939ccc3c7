//! Which kubeconfig files to check, with client-go's loading rules:
//! `--kubeconfig PATH` (must exist), else every file of `$KUBECONFIG` (colon-separated, empty
//! and missing entries skipped, duplicates once), else `~/.kube/config`. Under `sudo` the home
//! directory is the invoking user's, not root's: fixing root's kubeconfig is rarely the point.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment kubefix looks at, passed in so tests can set it.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub kubeconfig: Option<String>,
    pub home: Option<PathBuf>,
    /// `SUDO_USER`, honoured only when running as root.
    pub sudo_user: Option<String>,
    pub is_root: bool,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            kubeconfig: std::env::var("KUBECONFIG").ok(),
            home: dirs::home_dir(),
            sudo_user: std::env::var("SUDO_USER")
                .ok()
                .filter(|u| !u.is_empty() && u != "root"),
            is_root: is_root(),
        }
    }

    /// The home directory whose kubeconfig is the default.
    pub fn user_home(&self) -> Option<PathBuf> {
        if self.is_root {
            if let Some(user) = &self.sudo_user {
                if let Some(home) = home_of(user) {
                    return Some(home);
                }
            }
        }
        self.home.clone()
    }
}

fn is_root() -> bool {
    crate::privilege::is_root()
}

/// Home directory of `user` from the user database (getpwnam_r).
fn home_of(user: &str) -> Option<PathBuf> {
    crate::privilege::home_of(user)
}

/// The files to check, in client-go's order.
pub fn select(explicit: Option<&Path>, env: &Env) -> Result<Vec<PathBuf>> {
    if let Some(p) = explicit {
        return Ok(vec![p.to_path_buf()]);
    }
    if let Some(list) = env.kubeconfig.as_deref().filter(|s| !s.is_empty()) {
        let mut out: Vec<PathBuf> = Vec::new();
        // One file spelled two ways (`./a` and `a`, or through a symlink) is one file:
        // compare what the paths resolve to.
        let mut seen: Vec<PathBuf> = Vec::new();
        for part in list.split(':').filter(|p| !p.is_empty()) {
            let p = PathBuf::from(part);
            let Ok(real) = std::fs::canonicalize(&p) else {
                continue; // missing entries are skipped, as client-go does
            };
            if seen.contains(&real) {
                continue;
            }
            seen.push(real);
            out.push(p);
        }
        if out.is_empty() {
            return Err(Error::Usage(format!(
                "none of the files in $KUBECONFIG ({list}) exists"
            )));
        }
        return Ok(out);
    }
    let home = env.user_home().ok_or_else(|| {
        Error::Usage("cannot find the home directory; pass --kubeconfig PATH".into())
    })?;
    let p = home.join(".kube").join("config");
    if !p.exists() {
        return Err(Error::Usage(format!(
            "{} does not exist; pass --kubeconfig PATH or set KUBECONFIG",
            p.display()
        )));
    }
    Ok(vec![p])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_list_skips_missing_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "").unwrap();
        std::fs::write(&b, "").unwrap();
        let list = format!(
            "{}::{}:{}:{}",
            a.display(),
            dir.path().join("missing").display(),
            b.display(),
            a.display()
        );
        let env = Env {
            kubeconfig: Some(list),
            ..Env::default()
        };
        assert_eq!(select(None, &env).unwrap(), vec![a, b]);
    }

    #[test]
    fn explicit_path_wins() {
        let env = Env {
            kubeconfig: Some("/nonexistent".into()),
            ..Env::default()
        };
        let p = Path::new("/x/config");
        assert_eq!(select(Some(p), &env).unwrap(), vec![p.to_path_buf()]);
    }

    #[test]
    fn default_is_home_kube_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".kube")).unwrap();
        std::fs::write(dir.path().join(".kube/config"), "").unwrap();
        let env = Env {
            home: Some(dir.path().to_path_buf()),
            ..Env::default()
        };
        assert_eq!(
            select(None, &env).unwrap(),
            vec![dir.path().join(".kube/config")]
        );
        let env = Env {
            home: Some(dir.path().join("nowhere")),
            ..Env::default()
        };
        assert!(select(None, &env).is_err());
    }

    #[test]
    fn all_missing_in_kubeconfig_is_an_error() {
        let env = Env {
            kubeconfig: Some("/nonexistent/a:/nonexistent/b".into()),
            ..Env::default()
        };
        assert!(select(None, &env).is_err());
    }
}
