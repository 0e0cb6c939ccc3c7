//! `k3s-credentials`: a copy of a node's admin kubeconfig whose client certificate went
//! stale, while the node holds a fresh one.
//!
//! What breaks: K3s (and RKE2, and kubeadm with `kubeadm certs renew`) renews its admin
//! certificate and rewrites `/etc/rancher/k3s/k3s.yaml`, but the copy in `~/.kube/config`
//! keeps the old one. Once it expires kubectl prints
//! `error: You must be logged in to the server (Unauthorized)`; after a reinstall (new CA) the
//! old certificate is not trusted at all.
//!
//! Detection: each context of the target file is matched to an admin of a credential source
//! ([`crate::credentials`]) by its cluster CA, else by server host:port, else by the context
//! named with `--k3s-context`; never by a name like `default`. The matched user's certificate
//! needs refreshing when it is expired, expires within `--renew-within`, or is not signed by
//! the CA that signed the source's certificate.
//!
//! Fix: replace `client-certificate-data` and `client-key-data` with the source's values
//! (and `certificate-authority-data` when the match was not by CA and the CA changed), but
//! only when the fresh certificate expires later and names the same user and groups (CN and
//! O): swapping in another identity could grant admin rights, so that needs
//! `--force-identity ENTRY` (refused when root works on another user's file), which is only
//! suggested to an admin identity (an admin group, or the source's user name): a person's
//! own certificate (`CN=jane, O=developers`) is told how to get a new one of its own. Entries that
//! point at certificate files are reported with the exact commands (files created 0600);
//! `--inline-credentials` replaces them by inline data instead.
//!
//! Trust boundary (#12): root runs this over every user's kubeconfig, and anyone can write
//! a self-signed `O=system:masters, CN=system:admin` certificate, so names prove nothing.
//! When kubefix runs as root on a file another user owns, the source's credentials go into
//! it only when that user provably already holds a credential from the source: the entry's
//! certificate is signed by one of the cluster's client CAs ([`Admin::client_cas`];
//! validity dates aside) *and* its inline key belongs to it, or the owner can read the
//! source themselves. Otherwise the finding says so and gives the exact commands (a copy only
//! the user can read, then the user's own run); no key is handed over. Not root, the invoking
//! user read the source, so they hold it already. A file that receives credentials loses its
//! group and other permission bits in the same fix, whatever rules are selected.

use std::collections::HashSet;
use std::path::PathBuf;

use super::support::{renew, Context, Finding, Rule, Severity};
use crate::credentials::{Admin, Loaded, MatchedBy, Source, Target};
use crate::inspect::{self, cert, expiry::resolve_path, Cert};
use crate::kubeconfig::{Entry, Section};
use crate::kubectl_messages::KUBECTL_UNAUTHORIZED;
use crate::privilege;
use crate::shell::quote as shell_quote;
use crate::yaml::{replace_entry, replace_scalar, Change, NewValue, NodeId};

rule!(K3sCredentialsRule, "k3s-credentials", fixes, "stale client certificates in a copy of a K3s, RKE2 or kubeadm admin kubeconfig, refreshed from the node's own file");

/// The findings of the credential-refresh analysis ([`analyze`]), computed once per file:
/// this rule reports them and `credential-expiry` leaves out the users they cover.
pub fn analysis<'c>(cx: &'c Context<'_, '_, '_>) -> &'c [Finding] {
    cx.k3s.get_or_init(|| analyze(cx))
}

impl Rule for K3sCredentialsRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        out.extend(analysis(cx).iter().cloned());
    }
}

/// A file the kubeconfig names, bounded and never blocking; the error names the file.
fn read_file(path: &std::path::Path, kind: crate::source::Kind) -> Result<Vec<u8>, String> {
    crate::source::read_regular(path, kind).map_err(|e| e.naming(path, kind))
}

/// A user's client certificate, inline or in files.
enum Creds {
    Inline {
        cert: NodeId,
        key: NodeId,
    },
    Files {
        cert: NodeId,
        key: Option<NodeId>,
        cert_path: PathBuf,
        key_path: Option<PathBuf>,
    },
}

impl Creds {
    fn of(cx: &Context<'_, '_, '_>, body: NodeId) -> Option<(Creds, Result<Cert, String>)> {
        let kc = cx.config;
        let doc = kc.doc;
        let scalar = |k: &str| kc.get(body, k).filter(|&n| doc.scalar(n).is_some());
        if let (Some(c), Some(k)) = (scalar("client-certificate-data"), scalar("client-key-data")) {
            let leaf = inspect::decode_data(doc.scalar(c).unwrap_or(""))
                .and_then(|b| cert::parse_bundle(&b))
                .map(|chain| chain.into_iter().next().expect("non-empty"));
            return Some((Creds::Inline { cert: c, key: k }, leaf));
        }
        let c = scalar("client-certificate")?;
        let cert_path = resolve_path(cx.path, doc.scalar(c).unwrap_or(""));
        let key = scalar("client-key");
        let key_path = key.map(|k| resolve_path(cx.path, doc.scalar(k).unwrap_or("")));
        let leaf = read_file(&cert_path, crate::source::Kind::Certificate)
            .and_then(|b| cert::parse_bundle(&b))
            .map(|chain| chain.into_iter().next().expect("non-empty"));
        Some((
            Creds::Files {
                cert: c,
                key,
                cert_path,
                key_path,
            },
            leaf,
        ))
    }
}

/// Every finding of this rule for one file (also used by `credential-expiry` to leave alone
/// the users this rule already speaks about).
pub fn analyze(cx: &Context<'_, '_, '_>) -> Vec<Finding> {
    let sources = &cx.options.credentials;
    let mut out = Vec::new();
    if sources.specs.is_empty() {
        return out;
    }
    let kc = cx.config;
    let now = inspect::now();
    let within = cx.options.renew_within;
    if sources.ready().next().is_none() {
        unreadable_note(cx, now, &mut out);
        return out;
    }
    let mut seen: HashSet<NodeId> = HashSet::new();
    for ctx in &kc.contexts {
        let Some(body) = ctx.body else { continue };
        // One indexed lookup per context keeps a merged file of thousands of contexts linear.
        let find = |section, key: &str| kc.entry(section, kc.str_of(body, key)?);
        let (Some(cluster), Some(user)) = (
            find(Section::Clusters, "cluster"),
            find(Section::Users, "user"),
        ) else {
            continue;
        };
        let (Some(cbody), Some(ubody)) = (cluster.body, user.body) else {
            continue;
        };
        let ca_data = kc.get(cbody, "certificate-authority-data");
        let ca_file = kc.get(cbody, "certificate-authority");
        let target_ca: Result<Vec<Cert>, String> =
            if let Some(d) = ca_data.and_then(|n| kc.doc.scalar(n)) {
                inspect::decode_data(d).and_then(|b| cert::parse_bundle(&b))
            } else if let Some(f) = ca_file.and_then(|n| kc.doc.scalar(n)) {
                let p = resolve_path(cx.path, f);
                read_file(&p, crate::source::Kind::Certificate).and_then(|b| cert::parse_bundle(&b))
            } else {
                Ok(Vec::new())
            };
        let ca_list = target_ca.as_deref().unwrap_or(&[]);
        let target = Target {
            context: ctx.name.as_deref(),
            server: kc.str_of(cbody, "server"),
            ca: ca_list,
        };
        let Some((src, admin, by)) = sources.find(&target) else {
            continue;
        };
        if !seen.insert(user.item) {
            continue;
        }
        let Some((creds, leaf)) = Creds::of(cx, ubody) else {
            continue;
        };
        let has_ca = ca_data.is_some() || ca_file.is_some();
        let ca_differs = by != MatchedBy::Ca
            && has_ca
            && !admin.ca.is_empty()
            && !cert::share_a_cert(ca_list, &admin.ca);
        let cur = Current {
            cx,
            user,
            src,
            admin,
            by,
            ca_node: if ca_differs {
                Some((ca_data, ca_file))
            } else {
                None
            },
        };
        cur.check(&creds, leaf, now, within, &mut out);
    }
    out
}

struct Current<'c, 'v, 'd, 'a> {
    cx: &'c Context<'v, 'd, 'a>,
    user: &'c Entry,
    src: &'c Source,
    admin: &'c Admin,
    by: MatchedBy,
    /// Set when the cluster CA must be replaced too: (data node, file node).
    ca_node: Option<(Option<NodeId>, Option<NodeId>)>,
}

impl Current<'_, '_, '_, '_> {
    fn src_name(&self) -> String {
        format!(
            "{} ({})",
            self.src.spec.kind.name(),
            self.src.spec.path.display()
        )
    }

    fn check(
        &self,
        creds: &Creds,
        leaf: Result<Cert, String>,
        now: i64,
        within: inspect::expiry::RenewWithin,
        out: &mut Vec<Finding>,
    ) {
        let kc = self.cx.config;
        let opts = self.cx.options;
        let fresh = &self.admin.leaf;
        let line = kc.line(match creds {
            Creds::Inline { cert, .. } | Creds::Files { cert, .. } => *cert,
        });
        let mut reasons: Vec<String> = Vec::new();
        let mut severity = Severity::Warning;
        match &leaf {
            Err(e) => {
                reasons.push(format!("cannot be read ({e})"));
                severity = Severity::Error;
            }
            Ok(l) => {
                if l.expired(now) {
                    reasons.push(format!("expired on {}", inspect::date(l.not_after)));
                    severity = Severity::Error;
                } else if l.not_after - now <= within.0 {
                    reasons.push(format!(
                        "expires on {} (in {} days)",
                        inspect::date(l.not_after),
                        inspect::days_left(l.not_after, now)
                    ));
                }
                if let Some(issuer) = &self.admin.issuer {
                    if !l.signed_by(issuer) {
                        reasons.push(format!(
                            "is not signed by the CA that signed {}'s certificate ({})",
                            self.src.spec.kind.name(),
                            issuer.subject
                        ));
                        severity = Severity::Error;
                    }
                }
            }
        }
        if reasons.is_empty() && self.ca_node.is_none() {
            return;
        }
        let what = if reasons.is_empty() {
            "the cluster CA differs from the source's (K3s reinstalled or its CA rotated)"
                .to_string()
        } else {
            format!("client certificate {}", reasons.join(" and "))
        };
        let matched = match self.by {
            MatchedBy::Ca => "same cluster CA",
            MatchedBy::Server => "same server",
            MatchedBy::Context => "context named with --k3s-context",
        };
        let base = |severity: Severity, msg: String| {
            let f = Finding::new(ID, severity, line, msg).entry(self.user);
            if severity == Severity::Error {
                f.kubectl_says(KUBECTL_UNAUTHORIZED)
            } else {
                f
            }
        };
        let message = format!(
            "{what}; {} has fresh credentials for this cluster ({matched})",
            self.src_name()
        );
        let ca_severity = if self.ca_node.is_some() {
            Severity::Error
        } else {
            severity
        };

        if !reasons.is_empty() {
            // Guards: the fresh certificate must be valid, newer, and the same identity.
            if fresh.expired(now) {
                out.push(
                    base(
                        severity,
                        format!(
                            "{what}, and the one in {} expired too ({})",
                            self.src_name(),
                            inspect::date(fresh.not_after)
                        ),
                    )
                    .hint(self.src.spec.kind.renew_hint(&self.src.spec.path)),
                );
                return;
            }
            if let Ok(l) = &leaf {
                if fresh.not_after <= l.not_after {
                    out.push(
                        base(
                            severity,
                            format!(
                                "{what}; the certificate in {} is not newer (expires {})",
                                self.src_name(),
                                inspect::date(fresh.not_after)
                            ),
                        )
                        .hint(self.src.spec.kind.renew_hint(&self.src.spec.path)),
                    );
                    return;
                }
            }
            let same_identity = leaf.as_ref().is_ok_and(|l| l.identity == fresh.identity);
            let entry_name = self.user.name.as_deref().unwrap_or("");
            let forced = opts.force_identity.iter().any(|n| n == entry_name);
            if !same_identity && !forced {
                // A person's own certificate: the admin's would make them a cluster admin,
                // so the advice is a new certificate of their own, never --force-identity.
                if let Ok(l) = &leaf {
                    let admin_like = l.identity.is_admin()
                        || l.identity.common_name.is_some()
                            && l.identity.common_name == fresh.identity.common_name;
                    if !admin_like {
                        out.push(
                            base(severity, format!(
                                "{what}; {} has a fresh certificate for this cluster, but for another identity: this entry is {}, the source's is {}",
                                self.src_name(), l.identity, fresh.identity
                            ))
                            .hint(renew::new_certificate(self.cx, &l.identity, entry_name)),
                        );
                        return;
                    }
                }
                let theirs = match &leaf {
                    Ok(l) => format!("this entry is {}", l.identity),
                    Err(_) => "this entry's identity cannot be read".into(),
                };
                let mut hint = format!(
                    "kubefix does not swap identities on its own: that could give this entry other (admin) rights; if {} is what you want here, run `{}`",
                    fresh.identity,
                    opts.command.with(&["--apply", "--force-identity", entry_name])
                );
                if let Some(owner) = privilege::foreign_owner(self.cx.path) {
                    hint.push_str(&format!(
                        " as {} (kubefix refuses it when root works on another user's file)",
                        owner.label()
                    ));
                }
                out.push(
                    base(severity, format!(
                        "{what}; {} has a fresh certificate for this cluster, but for another identity: {theirs}, the source's is {}",
                        self.src_name(), fresh.identity
                    ))
                    .hint(hint),
                );
                return;
            }
            // Proof: the source's key goes only to who already held a credential from it.
            if let Err(owner) = self.entitled(creds, &leaf) {
                out.push(self.not_entitled(base(severity, String::new()), &what, &owner));
                return;
            }
        }

        let mut changes: Vec<Change> = Vec::new();
        let mut by_hand: Vec<String> = Vec::new();
        let mut title_parts: Vec<String> = Vec::new();
        let doc = kc.doc;
        if !reasons.is_empty() {
            match creds {
                Creds::Inline { cert, key } => {
                    match (
                        replace_scalar(doc, doc.resolve(*cert), &self.admin.cert_data),
                        replace_scalar(doc, doc.resolve(*key), &self.admin.key_data),
                    ) {
                        (Ok(a), Ok(b)) => {
                            changes.push(a);
                            changes.push(b);
                            title_parts.push("client-certificate-data and client-key-data".into());
                        }
                        (Err(e), _) | (_, Err(e)) => by_hand.push(e.to_string()),
                    }
                }
                Creds::Files {
                    cert: _,
                    key,
                    cert_path,
                    key_path,
                } => {
                    let body = self.user.body.expect("checked");
                    if opts.inline_credentials && key.is_some() {
                        let a = replace_entry(
                            doc,
                            body,
                            "client-certificate",
                            "client-certificate-data",
                            &NewValue::str(&self.admin.cert_data),
                        );
                        let b = replace_entry(
                            doc,
                            body,
                            "client-key",
                            "client-key-data",
                            &NewValue::str(&self.admin.key_data),
                        );
                        match (a, b) {
                            (Ok(a), Ok(b)) => {
                                changes.push(a);
                                changes.push(b);
                                title_parts.push("client-certificate and client-key (files) by inline client-certificate-data and client-key-data".into());
                            }
                            (Err(e), _) | (_, Err(e)) => by_hand.push(e.to_string()),
                        }
                    } else {
                        by_hand.push(self.file_commands(cert_path, key_path.as_ref()));
                    }
                }
            }
        }
        if let Some((data, file)) = self.ca_node {
            if let (Some(d), Some(new)) = (data, &self.admin.ca_data) {
                match replace_scalar(doc, doc.resolve(d), new) {
                    Ok(c) => {
                        changes.push(c);
                        title_parts
                            .push("certificate-authority-data (the cluster CA changed)".into());
                    }
                    Err(e) => by_hand.push(e.to_string()),
                }
            } else if let Some(f) = file.and_then(|n| doc.scalar(n)) {
                let p = resolve_path(self.cx.path, f);
                by_hand.push(format!(
                    "the cluster CA changed: `kubectl --kubeconfig {src} config view --raw -o jsonpath='{{.clusters[0].cluster.certificate-authority-data}}' | base64 -d > {p}`",
                    src = shell_quote(&self.src.spec.path.to_string_lossy()),
                    p = shell_quote(&p.to_string_lossy())
                ));
            }
        }
        let writes_credentials = !reasons.is_empty() && !changes.is_empty();
        let mut f = base(ca_severity.min(severity), message);
        if !changes.is_empty() {
            let until = if reasons.is_empty() {
                String::new()
            } else {
                format!(
                    " (valid until {}, {})",
                    inspect::date(fresh.not_after),
                    fresh.identity
                )
            };
            // Credentials never land in a file others can read, whatever rules run
            // (`--rule k3s-credentials`, `--skip file-permissions`).
            let mode = if writes_credentials {
                std::fs::metadata(self.cx.path)
                    .ok()
                    .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
                    .filter(|m| m & 0o077 != 0)
            } else {
                None
            };
            let mode_note = match mode {
                Some(m) => format!(
                    "; set mode {m:04o} -> {:04o}, as the file now holds {}'s credentials",
                    m & !0o077,
                    self.src.spec.kind.name()
                ),
                None => String::new(),
            };
            f = f.fix(
                format!(
                    "replace {} with {}'s{until}{mode_note}",
                    title_parts.join(" and "),
                    self.src_name()
                ),
                changes,
            );
            if let (Some(m), Some(fix)) = (mode, f.fix.as_mut()) {
                fix.mode = Some(m & !0o077);
            }
        }
        if !by_hand.is_empty() {
            f = f.hint(by_hand.join("; "));
        }
        out.push(f);
    }

    /// Whether this entry may receive the source's credentials. Always when kubefix works
    /// for the file's owner (not root: they read the source themselves; root's own file).
    /// As root on another user's file, only when (a) the entry's certificate is signed by one
    /// of the cluster's client CAs (validity dates aside) and its inline key belongs to it,
    /// or (b) the owner can read the source on their own. Subject names prove nothing: anyone
    /// can write a self-signed `O=system:masters` certificate. Files the entry names are not
    /// read for the proof (root reading a path a user chose is the attack).
    fn entitled(&self, creds: &Creds, leaf: &Result<Cert, String>) -> Result<(), privilege::Owner> {
        let Some(owner) = privilege::foreign_owner(self.cx.path) else {
            return Ok(());
        };
        if let (Creds::Inline { key, .. }, Ok(l)) = (creds, leaf) {
            let doc = self.cx.config.doc;
            let holds_key = || {
                doc.scalar(doc.resolve(*key))
                    .and_then(|d| inspect::decode_data(d).ok())
                    .is_some_and(|k| l.key_matches(&k))
            };
            if l.signed_by_any(&self.admin.client_cas) && holds_key() {
                return Ok(());
            }
        }
        if self
            .cx
            .options
            .credentials
            .owner_can_read(&owner, &self.src.spec.path)
        {
            return Ok(());
        }
        Err(owner)
    }

    /// The finding for an entry that cannot prove it holds a credential from the source: no
    /// key is handed over; the exact command an administrator runs if the user should have
    /// one (a copy only the user can read), then the user refreshes their file themselves.
    fn not_entitled(&self, f: Finding, what: &str, owner: &privilege::Owner) -> Finding {
        let src = &self.src.spec.path;
        let user = owner.name.clone().unwrap_or_else(|| owner.uid.to_string());
        let group = privilege::group_name(owner.gid).unwrap_or_else(|| owner.gid.to_string());
        let dir = self
            .cx
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        let name = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "source.yaml".into());
        let copy = dir.join(&name);
        let flag = if self.src.spec.kind == crate::credentials::SourceKind::K3s {
            "--k3s-config"
        } else {
            "--from"
        };
        let copy_q = shell_quote(&copy.to_string_lossy());
        let message = format!(
            "{what}; {} has fresh credentials for this cluster, but nothing shows that {} already holds a credential from it: this entry's certificate is not signed by the cluster's client CA together with its key, and {} cannot read {}, so kubefix hands over no key",
            self.src_name(),
            owner.label(),
            owner.label(),
            src.display()
        );
        Finding { message, ..f }.hint(format!(
            "if {} should have {}'s credentials, an administrator gives them a copy only they can read: `sudo install -m 600 -o {} -g {} {} {copy_q}`; then {} runs (without sudo) `kubefix --apply --kubeconfig {} {flag} {copy_q}`",
            owner.label(),
            self.src.spec.kind.name(),
            shell_quote(&user),
            shell_quote(&group),
            shell_quote(&src.to_string_lossy()),
            owner.label(),
            shell_quote(&self.cx.path.to_string_lossy()),
        ))
    }

    /// Exact commands that write the fresh certificate and key into the files an entry names,
    /// each file created anew with mode 0600 (`umask 077` after removing the old one: a
    /// redirection into an existing file would keep its mode).
    fn file_commands(&self, cert: &std::path::Path, key: Option<&PathBuf>) -> String {
        let src = shell_quote(&self.src.spec.path.to_string_lossy());
        let user = &self.admin.user;
        let get = |field: &str, dest: &std::path::Path| {
            let d = shell_quote(&dest.to_string_lossy());
            format!(
                "rm -f {d} && kubectl --kubeconfig {src} config view --raw -o jsonpath={} | base64 -d > {d}",
                shell_quote(&format!("{{.users[?(@.name==\"{user}\")].user.{field}}}"))
            )
        };
        let mut cmds = vec![get("client-certificate-data", cert)];
        if let Some(k) = key {
            cmds.push(get("client-key-data", k));
        }
        format!(
            "this entry reads its certificate from files; write the fresh ones there: `(umask 077 && {})` (or run `{}` to put them inline)",
            cmds.join(" && "),
            self.cx.options.command.with(&["--apply", "--inline-credentials"])
        )
    }
}

/// No source could be read: say so once per file, where a client certificate needs renewal.
fn unreadable_note(cx: &Context<'_, '_, '_>, now: i64, out: &mut Vec<Finding>) {
    let sources = &cx.options.credentials;
    let Some((spec, error)) = sources.loaded().iter().find_map(|l| match l {
        Loaded::Unreadable {
            spec,
            error,
            permission: true,
        } => Some((spec, error)),
        _ => None,
    }) else {
        return;
    };
    let kc = cx.config;
    for user in &kc.users {
        let Some(body) = user.body else { continue };
        let Some((creds, Ok(leaf))) = Creds::of(cx, body) else {
            continue;
        };
        if leaf.not_after - now > cx.options.renew_within.0 {
            continue;
        }
        let node = match creds {
            Creds::Inline { cert, .. } | Creds::Files { cert, .. } => cert,
        };
        let flag = spec
            .flag
            .unwrap_or(if spec.kind == crate::credentials::SourceKind::K3s {
                "--k3s-config"
            } else {
                "--from"
            });
        out.push(
            Finding::new(
                ID,
                Severity::Warning,
                kc.line(node),
                format!(
                    "client certificate expires {}; fresh {} credentials may be in {}, but kubefix cannot read it ({error})",
                    inspect::date(leaf.not_after),
                    spec.kind.name(),
                    spec.path.display()
                ),
            )
            .entry(user)
            .hint(
                spec.kind
                    .unreadable_help(&spec.path, flag, &cx.options.command)
                    .replace("\n  ", " "),
            ),
        );
        return;
    }
}
