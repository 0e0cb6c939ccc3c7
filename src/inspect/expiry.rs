//! Every credential of one kubeconfig with its expiry: client certificates (inline or file),
//! static tokens that are JWTs (inline or `tokenFile`), and cluster CAs. This is the table
//! `kubefix` prints per file (like `kubeadm certs check-expiration`), the `expiry` array of
//! the JSON report, and what the `credential-expiry` rule warns from.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{cert, date, days_left, decode_data, rfc3339, token, DAY};
use crate::kubeconfig::EntryRef;
use crate::kubeconfig::{Entry, Kubeconfig};
use crate::yaml::NodeId;

/// How long before expiry a credential counts as expiring (`--renew-within`, 30 days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenewWithin(pub i64);

impl Default for RenewWithin {
    fn default() -> Self {
        RenewWithin(30 * DAY)
    }
}

impl RenewWithin {
    /// `30d`, `720h`, `2w` ... (humantime syntax).
    pub fn parse(s: &str) -> Result<RenewWithin, String> {
        humantime::parse_duration(s)
            .map(|d| RenewWithin(d.as_secs() as i64))
            .map_err(|e| format!("{e} (examples: 30d, 2w, 720h)"))
    }
}

/// What a credential's dates say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ExpiryStatus {
    Ok,
    Expiring,
    Expired,
    /// notBefore is in the future.
    NotYetValid,
    /// A JWT without `exp` (legacy service-account token secrets never expire).
    NoExpiry,
    /// Could not be read or parsed; `detail` says why.
    Unreadable,
}

impl ExpiryStatus {
    pub fn label(self) -> &'static str {
        match self {
            ExpiryStatus::Ok => "ok",
            ExpiryStatus::Expiring => "EXPIRING",
            ExpiryStatus::Expired => "EXPIRED",
            ExpiryStatus::NotYetValid => "NOT YET VALID",
            ExpiryStatus::NoExpiry => "no expiry",
            ExpiryStatus::Unreadable => "unreadable",
        }
    }
}

/// Which credential a row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    ClientCertificate,
    Token,
    CertificateAuthority,
}

impl CredentialKind {
    pub fn label(self) -> &'static str {
        match self {
            CredentialKind::ClientCertificate => "client certificate",
            CredentialKind::Token => "token",
            CredentialKind::CertificateAuthority => "cluster CA",
        }
    }
}

/// One line of the expiry table.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiryRow {
    pub entry: EntryRef,
    pub kind: CredentialKind,
    /// `inline`, or the file the credential is read from.
    pub location: String,
    pub line: usize,
    /// Certificate subject, or for a token its service account (`namespace/name`) or subject.
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub not_before: Option<String>,
    /// RFC 3339, UTC.
    pub expires: Option<String>,
    pub days_left: Option<i64>,
    pub status: ExpiryStatus,
    pub detail: Option<String>,
    /// When a fix in this run replaces the credential: the new expiry.
    pub renewed_until: Option<String>,
    #[serde(skip)]
    pub expires_ts: Option<i64>,
    /// The value node (the scalar holding the data, token or path).
    #[serde(skip)]
    pub node: NodeId,
    /// The parsed leaf certificate, for certificates.
    #[serde(skip)]
    pub cert: Option<cert::Cert>,
}

/// Resolve a path from a kubeconfig as client-go does: relative to the file's directory.
pub fn resolve_path(kubeconfig: &Path, p: &str) -> PathBuf {
    let p = if let Some(rest) = p.strip_prefix("~/") {
        dirs::home_dir()
            .map(|h| h.join(rest))
            .unwrap_or_else(|| PathBuf::from(p))
    } else {
        PathBuf::from(p)
    };
    if p.is_absolute() {
        p
    } else {
        kubeconfig.parent().unwrap_or(Path::new(".")).join(p)
    }
}

fn status_of(not_before: i64, not_after: i64, now: i64, within: RenewWithin) -> ExpiryStatus {
    if not_after <= now {
        ExpiryStatus::Expired
    } else if not_before > now {
        ExpiryStatus::NotYetValid
    } else if not_after - now <= within.0 {
        ExpiryStatus::Expiring
    } else {
        ExpiryStatus::Ok
    }
}

struct Builder<'p> {
    path: &'p Path,
    now: i64,
    within: RenewWithin,
    rows: Vec<ExpiryRow>,
}

impl Builder<'_> {
    fn base(
        &self,
        entry: &Entry,
        kind: CredentialKind,
        location: String,
        line: usize,
        node: NodeId,
    ) -> ExpiryRow {
        ExpiryRow {
            entry: EntryRef {
                kind: entry.section,
                name: entry.name.clone().unwrap_or_else(|| "<unnamed>".into()),
            },
            kind,
            location,
            line,
            subject: None,
            issuer: None,
            not_before: None,
            expires: None,
            days_left: None,
            status: ExpiryStatus::Unreadable,
            detail: None,
            renewed_until: None,
            expires_ts: None,
            node,
            cert: None,
        }
    }

    /// A certificate from `data` (inline base64) or `file` (a path).
    fn cert(
        &mut self,
        kc: &Kubeconfig<'_, '_>,
        entry: &Entry,
        kind: CredentialKind,
        data: Option<NodeId>,
        file: Option<NodeId>,
    ) {
        let doc = kc.doc;
        let (node, location, bytes) = if let Some(n) = data.filter(|&n| doc.scalar(n).is_some()) {
            let v = doc.scalar(n).unwrap_or("");
            (n, "inline".to_string(), decode_data(v))
        } else if let Some(n) = file.filter(|&n| doc.scalar(n).is_some_and(|s| !s.is_empty())) {
            let p = resolve_path(self.path, doc.scalar(n).unwrap_or(""));
            let bytes = crate::source::read_regular(&p, crate::source::Kind::Certificate)
                .map_err(|e| e.naming(&p, crate::source::Kind::Certificate));
            (n, p.display().to_string(), bytes)
        } else {
            return;
        };
        let mut row = self.base(entry, kind, location, kc.line(node), node);
        match bytes.and_then(|b| cert::parse_bundle(&b)) {
            Ok(chain) => {
                let leaf = chain.into_iter().next().expect("non-empty bundle");
                row.subject = Some(leaf.subject.clone());
                row.issuer = Some(leaf.issuer.clone());
                row.not_before = Some(rfc3339(leaf.not_before));
                row.expires = Some(rfc3339(leaf.not_after));
                row.expires_ts = Some(leaf.not_after);
                row.days_left = Some(days_left(leaf.not_after, self.now));
                row.status = status_of(leaf.not_before, leaf.not_after, self.now, self.within);
                row.cert = Some(leaf);
            }
            Err(e) => row.detail = Some(e),
        }
        self.rows.push(row);
    }

    fn token(
        &mut self,
        kc: &Kubeconfig<'_, '_>,
        entry: &Entry,
        inline: Option<NodeId>,
        file: Option<NodeId>,
    ) {
        let doc = kc.doc;
        let (node, location, text) =
            if let Some(n) = inline.filter(|&n| doc.scalar(n).is_some_and(|s| !s.is_empty())) {
                (
                    n,
                    "inline".to_string(),
                    doc.scalar(n).unwrap_or("").to_string(),
                )
            } else if let Some(n) = file.filter(|&n| doc.scalar(n).is_some_and(|s| !s.is_empty())) {
                let p = resolve_path(self.path, doc.scalar(n).unwrap_or(""));
                // client-go re-reads token files; a missing one is not ours (`missing-file`
                // reports it, and one that is no regular file).
                match crate::source::read_regular(&p, crate::source::Kind::Token)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                {
                    Some(t) => (n, p.display().to_string(), t),
                    None => return,
                }
            } else {
                return;
            };
        // Opaque tokens carry no date: no row.
        let Some(jwt) = token::decode(&text) else {
            return;
        };
        let mut row = self.base(entry, CredentialKind::Token, location, kc.line(node), node);
        row.subject = jwt.service_account.clone().or(jwt.subject.clone());
        row.issuer = jwt.issuer.clone();
        row.not_before = jwt.iat.map(rfc3339);
        match jwt.exp {
            Some(exp) => {
                row.expires = Some(rfc3339(exp));
                row.expires_ts = Some(exp);
                row.days_left = Some(days_left(exp, self.now));
                row.status = status_of(i64::MIN, exp, self.now, self.within);
            }
            None => row.status = ExpiryStatus::NoExpiry,
        }
        self.rows.push(row);
    }
}

/// Every credential of the file, users first, in file order.
pub fn table(
    kc: &Kubeconfig<'_, '_>,
    path: &Path,
    within: RenewWithin,
    now: i64,
) -> Vec<ExpiryRow> {
    let mut b = Builder {
        path,
        now,
        within,
        rows: Vec::new(),
    };
    for user in &kc.users {
        let Some(body) = user.body else { continue };
        b.cert(
            kc,
            user,
            CredentialKind::ClientCertificate,
            kc.get(body, "client-certificate-data"),
            kc.get(body, "client-certificate"),
        );
        b.token(kc, user, kc.get(body, "token"), kc.get(body, "tokenFile"));
    }
    for cluster in &kc.clusters {
        let Some(body) = cluster.body else { continue };
        b.cert(
            kc,
            cluster,
            CredentialKind::CertificateAuthority,
            kc.get(body, "certificate-authority-data"),
            kc.get(body, "certificate-authority"),
        );
    }
    b.rows
}

/// Mark rows whose credential a fix replaces: `after` is the table of the repaired text.
pub fn mark_renewed(before: &mut [ExpiryRow], after: &[ExpiryRow]) {
    // Index the new rows once: a merged kubeconfig has thousands of users.
    let mut index: std::collections::HashMap<
        (crate::kubeconfig::Section, &str, CredentialKind),
        &ExpiryRow,
    > = std::collections::HashMap::with_capacity(after.len());
    for n in after {
        index
            .entry((n.entry.kind, n.entry.name.as_str(), n.kind))
            .or_insert(n);
    }
    for row in before.iter_mut() {
        if let Some(new) = index.get(&(row.entry.kind, row.entry.name.as_str(), row.kind)) {
            if new.cert.as_ref().map(|c| &c.der) != row.cert.as_ref().map(|c| &c.der)
                && new.expires.is_some()
            {
                row.renewed_until = new.expires.clone();
            }
        }
    }
}

/// The human table of one file; empty when no row has a date (nothing worth a table).
pub fn render_text(rows: &[ExpiryRow], applied: bool) -> String {
    use std::fmt::Write as _;
    if !rows.iter().any(|r| r.expires.is_some()) {
        return String::new();
    }
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let mut status = r.status.label().to_string();
            if let Some(d) = &r.detail {
                status.push_str(&format!(" ({d})"));
            }
            if let Some(new) = &r.renewed_until {
                let verb = if applied {
                    "renewed"
                } else {
                    "renewal pending"
                };
                status.push_str(&format!(", {verb}: until {}", &new[..10.min(new.len())]));
            }
            [
                r.entry.to_string(),
                r.kind.label().to_string(),
                r.expires_ts.map(date).unwrap_or_else(|| "-".into()),
                r.days_left
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
                status,
            ]
        })
        .collect();
    let header = ["ENTRY", "KIND", "EXPIRES", "DAYS LEFT", "STATUS"];
    let mut widths = header.map(str::len);
    for c in &cells {
        for (w, s) in widths.iter_mut().zip(c.iter()) {
            *w = (*w).max(s.chars().count());
        }
    }
    let mut out = String::from("  credentials:\n");
    let mut line = |cols: [&str; 5]| {
        let mut s = String::from("   ");
        for (i, c) in cols.iter().enumerate() {
            if i + 1 == cols.len() {
                s.push_str(&format!(" {c}"));
            } else {
                s.push_str(&format!(" {c:<w$}", w = widths[i]));
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    };
    line(header);
    for c in &cells {
        line([&c[0], &c[1], &c[2], &c[3], &c[4]]);
    }
    out
}
