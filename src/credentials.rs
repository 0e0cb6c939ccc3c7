//! Credential sources: kubeconfigs on this machine that hold fresh admin credentials for a
//! cluster, written by the distribution itself and renewed by it.
//!
//! | kind | default path | renewed by |
//! |---|---|---|
//! | K3s | `/etc/rancher/k3s/k3s.yaml` | K3s itself, on restart within 90 days of expiry |
//! | RKE2 | `/etc/rancher/rke2/rke2.yaml` | RKE2 itself, like K3s |
//! | kubeadm | `/etc/kubernetes/admin.conf` | `kubeadm certs renew admin.conf` |
//! | kubeconfig | any `--from PATH` | whoever wrote it |
//!
//! Users copy these files once and the copies go stale when the distribution renews its
//! certificates. A source is read with the same lossless parser as every kubeconfig, once per
//! run (lazily, on first use), and reduced to its *admins*: contexts whose user has inline
//! client-certificate credentials. Matching a target kubeconfig's context to an admin, and the
//! safety rules for swapping credentials, live in the `k3s-credentials` rule; this module only
//! knows where sources are, how to read them, and how to say why one cannot be read.
//!
//! `kubeadm`'s `super-admin.conf` is never a default source (it bypasses RBAC); name it with
//! `--from` if you really mean it.
//!
//! Sources are read once, before any user's file is looked at (root may read them when no
//! user can). With each admin comes the set of CAs that issue client certificates for its
//! cluster ([`Admin::client_cas`]): K3s writes `client-admin.crt` (the admin certificate
//! followed by its client CA) into k3s.yaml's `client-certificate-data`, and keeps
//! `/var/lib/rancher/k3s/server/tls/client-ca.crt` (RKE2 likewise); kubeadm signs clients
//! with the cluster CA (`/etc/kubernetes/pki/ca.crt`). The rule uses them to tell a copy
//! that holds a credential of this cluster from a forged one.

use std::collections::HashMap;
use std::net::{IpAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::Error;
use crate::inspect::cert::{self, Cert};
use crate::inspect::decode_data;
use crate::kubeconfig::{Kubeconfig, Section};
use crate::privilege;
use crate::shell::{quote, CommandLine};
use crate::yaml::{self, Document};

/// Which distribution wrote a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    K3s,
    Rke2,
    Kubeadm,
    /// Any kubeconfig named with `--from`.
    Kubeconfig,
}

impl SourceKind {
    pub const KNOWN: [SourceKind; 3] = [SourceKind::K3s, SourceKind::Rke2, SourceKind::Kubeadm];

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::K3s => "K3s",
            SourceKind::Rke2 => "RKE2",
            SourceKind::Kubeadm => "kubeadm",
            SourceKind::Kubeconfig => "kubeconfig",
        }
    }

    pub fn default_path(self) -> Option<&'static str> {
        match self {
            SourceKind::K3s => Some("/etc/rancher/k3s/k3s.yaml"),
            SourceKind::Rke2 => Some("/etc/rancher/rke2/rke2.yaml"),
            SourceKind::Kubeadm => Some("/etc/kubernetes/admin.conf"),
            SourceKind::Kubeconfig => None,
        }
    }

    /// Where the distribution keeps the CA bundle its API server trusts for client
    /// certificates (`--client-ca-file`). K3s and RKE2 sign clients with a client CA of their
    /// own (`client-admin.crt`, which k3s.yaml embeds, is the admin certificate followed by
    /// that CA); kubeadm signs them with the cluster CA.
    pub fn client_ca_file(self) -> Option<&'static str> {
        match self {
            SourceKind::K3s => Some("/var/lib/rancher/k3s/server/tls/client-ca.crt"),
            SourceKind::Rke2 => Some("/var/lib/rancher/rke2/server/tls/client-ca.crt"),
            SourceKind::Kubeadm => Some("/etc/kubernetes/pki/ca.crt"),
            SourceKind::Kubeconfig => None,
        }
    }

    /// The kind a `--from PATH` most likely is, for messages and hints.
    pub fn guess(path: &Path) -> SourceKind {
        let s = path.to_string_lossy();
        if s.contains("rancher/k3s") || s.ends_with("k3s.yaml") {
            SourceKind::K3s
        } else if s.contains("rancher/rke2") || s.ends_with("rke2.yaml") {
            SourceKind::Rke2
        } else if s.ends_with("admin.conf") {
            SourceKind::Kubeadm
        } else {
            SourceKind::Kubeconfig
        }
    }

    /// How to get a newer certificate into the source itself.
    pub fn renew_hint(self, path: &Path) -> String {
        match self {
            SourceKind::K3s => format!(
                "K3s renews its certificates when it restarts within 90 days of expiry: `sudo systemctl restart k3s` (or `sudo k3s certificate rotate` then restart), then run kubefix again; {} is rewritten",
                path.display()
            ),
            SourceKind::Rke2 => format!(
                "RKE2 renews its certificates when it restarts within 90 days of expiry: `sudo systemctl restart rke2-server` (or `sudo rke2 certificate rotate` then restart), then run kubefix again; {} is rewritten",
                path.display()
            ),
            SourceKind::Kubeadm => format!(
                "renew it on a control-plane node: `sudo kubeadm certs renew admin.conf`, then run kubefix again ({})",
                path.display()
            ),
            SourceKind::Kubeconfig => format!(
                "get a fresh copy of {} from where it came from, then run kubefix again",
                path.display()
            ),
        }
    }

    /// The three ways out when the source exists but cannot be read (named with `flag`);
    /// `command` is the kubefix command the user ran, for the commands to paste.
    pub fn unreadable_help(self, path: &Path, flag: &str, command: &CommandLine) -> String {
        let p = path.display();
        let second = match self {
            SourceKind::K3s => "set `write-kubeconfig-mode: \"0644\"` in /etc/rancher/k3s/config.yaml and restart k3s (`sudo systemctl restart k3s`), so the file is readable (this lets every local user read the cluster-admin credentials: only on a single-user machine)".to_string(),
            SourceKind::Rke2 => "set `write-kubeconfig-mode: \"0644\"` in /etc/rancher/rke2/config.yaml and restart RKE2 (`sudo systemctl restart rke2-server`), so the file is readable (this lets every local user read the cluster-admin credentials: only on a single-user machine)".to_string(),
            _ => format!("make it readable for yourself: `sudo setfacl -m u:$USER:r {}`", quote(&path.to_string_lossy())),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "source.yaml".into());
        // The copy replaces this source in the command, nothing else.
        let with_copy = command
            .without_arg(flag, &path.to_string_lossy())
            .with(&["--apply", flag]);
        format!(
            "it is readable by root only by default. Either\n  \
             1. run kubefix with sudo: `{sudo}` (your kubeconfig is still the one fixed, and it keeps its owner), or\n  \
             2. {second}, or\n  \
             3. pass {flag} PATH with a copy only you can read: `sudo install -m 600 -o \"$(id -u)\" -g \"$(id -g)\" {src} ~/{copy} && {with_copy} ~/{copy}`",
            sudo = command.with_sudo(&["--apply"]),
            src = quote(&p.to_string()),
            copy = quote(&name),
        )
    }
}

/// Where a source is, and whether the user asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSpec {
    pub kind: SourceKind,
    pub path: PathBuf,
    /// The flag that named it (`--k3s-config`, `--from`); `None` for a default location,
    /// which is skipped silently when missing.
    pub flag: Option<&'static str>,
}

impl SourceSpec {
    pub fn explicit(&self) -> bool {
        self.flag.is_some()
    }
}

/// One admin credential of a source: a context whose user has inline client certificates.
#[derive(Debug)]
pub struct Admin {
    pub context: String,
    pub user: String,
    pub server: Option<String>,
    /// `certificate-authority-data` as written, and its certificates.
    pub ca_data: Option<String>,
    pub ca: Vec<Cert>,
    /// `client-certificate-data` and `client-key-data` as written (base64 of PEM).
    pub cert_data: String,
    pub key_data: String,
    /// The leaf client certificate (first of the chain).
    pub leaf: Cert,
    /// The CA that signed `leaf`, when found (the next certificate of the chain, as K3s writes
    /// it, or the cluster CA, as kubeadm's single CA) and its signature checks out.
    pub issuer: Option<Cert>,
    /// Every CA that issues client certificates for this cluster, as far as the node tells:
    /// the rest of the source's certificate chain (K3s's client CA), the cluster CA when it
    /// signed the admin (kubeadm), and the distribution's client CA file when the source is at
    /// its default location. A client certificate signed by one of them, whose key the holder
    /// has, proves its holder already held a credential for this cluster.
    pub client_cas: Vec<Cert>,
}

/// A source read successfully.
#[derive(Debug)]
pub struct Source {
    pub spec: SourceSpec,
    pub admins: Vec<Admin>,
}

/// What reading a source gave.
#[derive(Debug)]
pub enum Loaded {
    Ready(Source),
    Missing(SourceSpec),
    Unreadable {
        spec: SourceSpec,
        error: String,
        permission: bool,
    },
    Invalid {
        spec: SourceSpec,
        error: String,
    },
}

/// How a target context was tied to a source admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    /// The cluster's CA is the source's CA.
    Ca,
    /// Same server host:port (a loopback source address matches this machine's addresses).
    Server,
    /// The user named the context (`--k3s-context`).
    Context,
}

/// What the rules know about a target context when looking for its source.
pub struct Target<'a> {
    pub context: Option<&'a str>,
    pub server: Option<&'a str>,
    pub ca: &'a [Cert],
}

/// Who (uid, gid, groups) and which source: the key of [`Sources::owner_can_read`]'s answers.
type ReadableKey = (u32, u32, Vec<u32>, PathBuf);

/// The credential sources of this run, read once on first use (clones share the reading).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub specs: Vec<SourceSpec>,
    /// `--k3s-context NAME`: a context of the target kubeconfig that belongs to the source.
    pub context: Option<String>,
    loaded: Arc<OnceLock<Vec<Loaded>>>,
    /// Answers of [`Sources::owner_can_read`], so the user switch it takes as root happens
    /// once per (user, source), on the thread that first asks.
    /// Keyed by the whole identity (uid, gid, groups): a uid the user database does not know
    /// takes its group from each file, so the uid alone does not decide.
    readable_by: Arc<Mutex<HashMap<ReadableKey, bool>>>,
}

impl Sources {
    pub fn new(specs: Vec<SourceSpec>, context: Option<String>) -> Sources {
        Sources {
            specs,
            context,
            loaded: Arc::default(),
            readable_by: Arc::default(),
        }
    }

    /// Whether `owner` could read the source at `path` on their own (then handing them its
    /// credentials gives them nothing they do not have). Checked by trying it as them
    /// ([`privilege::owner_can_read`]), once per user and source.
    pub fn owner_can_read(&self, owner: &privilege::Owner, path: &Path) -> bool {
        let key = (
            owner.uid,
            owner.gid,
            owner.groups.clone(),
            path.to_path_buf(),
        );
        let mut cache = self.readable_by.lock().unwrap_or_else(|e| e.into_inner());
        *cache
            .entry(key)
            .or_insert_with(|| privilege::owner_can_read(owner, path))
    }

    /// Every known source at its default location (each skipped silently when missing).
    pub fn defaults() -> Vec<SourceSpec> {
        SourceKind::KNOWN
            .iter()
            .filter_map(|&kind| {
                Some(SourceSpec {
                    kind,
                    path: PathBuf::from(kind.default_path()?),
                    flag: None,
                })
            })
            .collect()
    }

    pub fn loaded(&self) -> &[Loaded] {
        self.loaded
            .get_or_init(|| self.specs.iter().map(load).collect())
    }

    pub fn ready(&self) -> impl Iterator<Item = &Source> {
        self.loaded().iter().filter_map(|l| match l {
            Loaded::Ready(s) => Some(s),
            _ => None,
        })
    }

    /// An error for every source the user named that cannot be used: nothing is written then.
    /// `command` is the kubefix command the user ran, for the help on an unreadable source.
    pub fn preflight(&self, command: &CommandLine) -> Vec<Error> {
        let mut out = Vec::new();
        for l in self.loaded() {
            let msg = match l {
                Loaded::Ready(s) if s.spec.explicit() && s.admins.is_empty() => format!(
                    "{} {}: no context in it has a user with client-certificate-data and client-key-data, so it has no credentials to offer",
                    s.spec.flag.unwrap_or(""),
                    s.spec.path.display()
                ),
                Loaded::Missing(spec) if spec.explicit() => format!(
                    "{} {}: no such file",
                    spec.flag.unwrap_or(""),
                    spec.path.display()
                ),
                Loaded::Unreadable { spec, error, permission } if spec.explicit() => {
                    let mut m = format!(
                        "{} {}: cannot read the {} kubeconfig: {error}",
                        spec.flag.unwrap_or(""),
                        spec.path.display(),
                        spec.kind.name()
                    );
                    if *permission {
                        m.push_str("; ");
                        m.push_str(&spec.kind.unreadable_help(
                            &spec.path,
                            spec.flag.unwrap_or("--from"),
                            command,
                        ));
                    }
                    m
                }
                Loaded::Invalid { spec, error } if spec.explicit() => format!(
                    "{} {}: not a usable kubeconfig: {error}",
                    spec.flag.unwrap_or(""),
                    spec.path.display()
                ),
                _ => continue,
            };
            out.push(Error::Usage(msg));
        }
        out
    }

    /// The admin a target context belongs to: by CA first, then by server, then by the context
    /// named with `--k3s-context`. Never by a name like `default` alone. Among several
    /// candidates, the one whose certificate lives longest.
    pub fn find(&self, t: &Target<'_>) -> Option<(&Source, &Admin, MatchedBy)> {
        let all: Vec<(&Source, &Admin)> = self
            .ready()
            .flat_map(|s| s.admins.iter().map(move |a| (s, a)))
            .collect();
        let best = |pred: &dyn Fn(&Admin) -> bool| {
            all.iter()
                .filter(|(_, a)| pred(a))
                .max_by_key(|(_, a)| a.leaf.not_after)
                .copied()
        };
        if !t.ca.is_empty() {
            if let Some((s, a)) = best(&|a| cert::share_a_cert(t.ca, &a.ca)) {
                return Some((s, a, MatchedBy::Ca));
            }
        }
        if let Some(server) = t.server {
            if let Some((s, a)) = best(&|a| {
                a.server
                    .as_deref()
                    .is_some_and(|src| same_server(server, src))
            }) {
                return Some((s, a, MatchedBy::Server));
            }
        }
        if let (Some(named), Some(ctx)) = (&self.context, t.context) {
            if named == ctx {
                if let Some((s, a)) = best(&|_| true) {
                    return Some((s, a, MatchedBy::Context));
                }
            }
        }
        None
    }
}

/// Read one source.
pub fn load(spec: &SourceSpec) -> Loaded {
    let kind = crate::source::Kind::CredentialSource;
    let bytes = match crate::source::read_regular(&spec.path, kind) {
        Ok(b) => b,
        Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => {
            return Loaded::Missing(spec.clone())
        }
        Err(e) => {
            return Loaded::Unreadable {
                spec: spec.clone(),
                permission: e.io_kind() == Some(std::io::ErrorKind::PermissionDenied),
                error: e.describe(kind),
            }
        }
    };
    // The node's own client CA file, read with the source (as root, before any user's file
    // is looked at), only for a source at its distribution's default location.
    let node_client_cas = match (spec.kind.default_path(), spec.kind.client_ca_file()) {
        (Some(default), Some(ca_file)) if spec.path == Path::new(default) => std::fs::read(ca_file)
            .ok()
            .and_then(|b| cert::parse_bundle(&b).ok())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    match admins_of(&bytes, &node_client_cas) {
        Ok(admins) => Loaded::Ready(Source {
            spec: spec.clone(),
            admins,
        }),
        Err(error) => Loaded::Invalid {
            spec: spec.clone(),
            error,
        },
    }
}

fn admins_of(bytes: &[u8], node_client_cas: &[Cert]) -> Result<Vec<Admin>, String> {
    let text = yaml::decode(bytes).map_err(|e| e.to_string())?;
    let doc = Document::parse(text).map_err(|e| e.to_string())?;
    let kc = Kubeconfig::new(&doc).map_err(|e| e.message)?;
    let mut out = Vec::new();
    for ctx in &kc.contexts {
        let Some(body) = ctx.body else { continue };
        let find = |section, key: &str| kc.entry(section, kc.str_of(body, key)?)?.body;
        let (Some(cluster), Some(user)) = (
            find(Section::Clusters, "cluster"),
            find(Section::Users, "user"),
        ) else {
            continue;
        };
        let (Some(cert_data), Some(key_data)) = (
            kc.str_of(user, "client-certificate-data"),
            kc.str_of(user, "client-key-data"),
        ) else {
            continue;
        };
        let Ok(chain) = decode_data(cert_data).and_then(|b| cert::parse_bundle(&b)) else {
            continue;
        };
        let ca_data = kc.str_of(cluster, "certificate-authority-data");
        let ca = ca_data
            .and_then(|d| decode_data(d).ok())
            .and_then(|b| cert::parse_bundle(&b).ok())
            .unwrap_or_default();
        let mut chain = chain.into_iter();
        let leaf = chain.next().expect("non-empty bundle");
        let rest: Vec<Cert> = chain.collect();
        let issuer = rest
            .iter()
            .chain(ca.iter())
            .find(|c| leaf.signed_by(c))
            .cloned();
        let mut client_cas = rest;
        client_cas.extend(ca.iter().filter(|c| leaf.signed_by(c)).cloned());
        client_cas.extend(node_client_cas.iter().cloned());
        client_cas.dedup_by(|a, b| a.der == b.der);
        out.push(Admin {
            context: ctx.name.clone().unwrap_or_default(),
            user: kc.str_of(body, "user").unwrap_or("").to_string(),
            server: kc.str_of(cluster, "server").map(str::to_string),
            ca_data: ca_data.map(str::to_string),
            ca,
            cert_data: cert_data.to_string(),
            key_data: key_data.to_string(),
            leaf,
            issuer,
            client_cas,
        });
    }
    Ok(out)
}

/// `https://host:port/path` → (lower-case host without brackets, port; 443 by default).
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map(|(_, a)| a)
        .unwrap_or(authority);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 443,
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Is `host` an address or the name of this machine? An IP literal is this machine's when a
/// socket can be bound to it (no packet is sent).
fn is_this_machine(host: &str) -> bool {
    if is_loopback(host) {
        return true;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return !ip.is_unspecified() && UdpSocket::bind((ip, 0)).is_ok();
    }
    crate::source::read_regular(
        Path::new("/proc/sys/kernel/hostname"),
        crate::source::Kind::Text,
    )
    .ok()
    .and_then(|b| String::from_utf8(b).ok())
    .is_some_and(|h| h.trim().eq_ignore_ascii_case(host) && !h.trim().is_empty())
}

/// Do two server URLs name the same API server? Equal host:port; a source on a loopback
/// address (K3s and RKE2 write `https://127.0.0.1:6443`) also matches this machine's own
/// addresses and host name on the same port, as a copy edited to point at the node does.
pub fn same_server(target: &str, source: &str) -> bool {
    let (Some((th, tp)), Some((sh, sp))) = (host_port(target), host_port(source)) else {
        return false;
    };
    if tp != sp {
        return false;
    }
    th == sh || (is_loopback(&sh) && is_this_machine(&th))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        assert_eq!(
            host_port("https://127.0.0.1:6443"),
            Some(("127.0.0.1".into(), 6443))
        );
        assert_eq!(
            host_port("https://Node.Example:6443/"),
            Some(("node.example".into(), 6443))
        );
        assert_eq!(host_port("https://[::1]:6443"), Some(("::1".into(), 6443)));
        assert_eq!(
            host_port("https://api.example.com"),
            Some(("api.example.com".into(), 443))
        );
        assert_eq!(host_port("https://:6443"), None);
    }

    #[test]
    fn servers() {
        assert!(same_server(
            "https://127.0.0.1:6443",
            "https://127.0.0.1:6443"
        ));
        assert!(same_server(
            "https://localhost:6443",
            "https://127.0.0.1:6443"
        ));
        assert!(!same_server(
            "https://127.0.0.1:6444",
            "https://127.0.0.1:6443"
        ));
        // Documentation range: never an address of this machine.
        assert!(!same_server(
            "https://192.0.2.10:6443",
            "https://127.0.0.1:6443"
        ));
        assert!(!same_server(
            "https://a.example:6443",
            "https://b.example:6443"
        ));
    }

    #[test]
    fn missing_default_is_silent_missing_explicit_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("k3s.yaml");
        let quiet = Sources::new(
            vec![SourceSpec {
                kind: SourceKind::K3s,
                path: missing.clone(),
                flag: None,
            }],
            None,
        );
        assert!(quiet.preflight(&CommandLine::default()).is_empty());
        let loud = Sources::new(
            vec![SourceSpec {
                kind: SourceKind::K3s,
                path: missing,
                flag: Some("--k3s-config"),
            }],
            None,
        );
        let errs = loud.preflight(&CommandLine::default());
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().contains("no such file"), "{}", errs[0]);
    }

    #[test]
    fn unreadable_help_names_three_ways_out() {
        let h = SourceKind::K3s.unreadable_help(
            Path::new("/etc/rancher/k3s/k3s.yaml"),
            "--k3s-config",
            &CommandLine::default(),
        );
        assert!(h.contains("sudo kubefix --apply"));
        assert!(
            h.contains("&& kubefix --apply --k3s-config ~/k3s.yaml`"),
            "{h}"
        );
        // The command the user ran is kept; the unreadable source is replaced by the copy.
        let ran = CommandLine {
            args: vec![
                ("--kubeconfig".into(), Some("my config".into())),
                (
                    "--k3s-config".into(),
                    Some("/etc/rancher/k3s/k3s.yaml".into()),
                ),
            ],
            ..CommandLine::default()
        };
        let h = SourceKind::K3s.unreadable_help(
            Path::new("/etc/rancher/k3s/k3s.yaml"),
            "--k3s-config",
            &ran,
        );
        assert!(
            h.contains("`sudo kubefix --kubeconfig 'my config' --k3s-config /etc/rancher/k3s/k3s.yaml --apply`"),
            "{h}"
        );
        assert!(
            h.contains("&& kubefix --kubeconfig 'my config' --apply --k3s-config ~/k3s.yaml`"),
            "{h}"
        );
        assert!(h.contains("write-kubeconfig-mode"));
        assert!(h.contains("--k3s-config PATH"));
    }
}
