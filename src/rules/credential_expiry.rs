//! `credential-expiry`: client certificates, tokens and cluster CAs that have expired or
//! expire soon. Report only: nothing here changes the file.
//!
//! What breaks: an expired client certificate or bound service-account token makes the API
//! server reject every request; kubectl prints
//! `error: You must be logged in to the server (Unauthorized)`. EKS rejects service-account
//! tokens after 90 days; K3s and kubeadm certificates last a year.
//!
//! Detection: the expiry table ([`crate::inspect::expiry`]): every user's client certificate
//! (inline or file; the leaf of a chain), every static token that is a JWT (`exp`), every
//! cluster CA. Expired is an error, within `--renew-within` (default 30 days) a warning.
//! Users that `k3s-credentials` already reports (and usually fixes) are left to it.
//!
//! Hint: the command that regenerates the entry, from its vendor shape (EKS, GKE, AKS,
//! minikube), a `kubectl create token` for service-account tokens, for a user's own
//! certificate (not an admin identity) the way to a new one, else how kubefix could refresh
//! it from a node's admin kubeconfig.

use std::collections::HashSet;

use super::k3s_credentials;
use super::support::{renew, vendor_hints, Context, Finding, Rule, Severity};
use crate::inspect::date;
use crate::inspect::expiry::{CredentialKind, ExpiryRow, ExpiryStatus};
use crate::kubeconfig::Section;
use crate::kubectl_messages::KUBECTL_UNAUTHORIZED;

rule!(
    CredentialExpiryRule,
    "credential-expiry",
    reports,
    "client certificates, tokens and cluster CAs that have expired or expire within --renew-within"
);

impl Rule for CredentialExpiryRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        let rows = cx.expiry_table();
        if !rows.iter().any(|r| {
            matches!(
                r.status,
                ExpiryStatus::Expired | ExpiryStatus::Expiring | ExpiryStatus::NotYetValid
            )
        }) {
            return;
        }
        let covered: HashSet<&str> = k3s_credentials::analysis(cx)
            .iter()
            .filter_map(|f| f.entry.as_ref().map(|e| e.name.as_str()))
            .collect();
        for row in rows {
            let severity = match row.status {
                ExpiryStatus::Expired => Severity::Error,
                ExpiryStatus::Expiring | ExpiryStatus::NotYetValid => Severity::Warning,
                _ => continue,
            };
            if row.entry.kind == Section::Users && covered.contains(row.entry.name.as_str()) {
                continue;
            }
            let section = match row.entry.kind {
                Section::Users => Section::Users,
                _ => Section::Clusters,
            };
            let Some(entry) = kc.entry(section, &row.entry.name) else {
                continue;
            };
            let code = match (row.kind, severity) {
                (CredentialKind::Token, Severity::Error) => "token-expired",
                (CredentialKind::Token, _) => "token-expiring",
                (_, Severity::Error) => "cert-expired",
                _ => "cert-expiring",
            };
            let mut f = Finding::new(ID, severity, row.line, message(row))
                .entry(entry)
                .code(code);
            if severity == Severity::Error && row.kind != CredentialKind::CertificateAuthority {
                f = f.kubectl_says(KUBECTL_UNAUTHORIZED);
            }
            if let Some(h) = hint(cx, row, entry) {
                f = f.hint(h);
            }
            out.push(f);
        }
    }
}

fn message(row: &ExpiryRow) -> String {
    let when = match (row.status, row.expires_ts, row.days_left) {
        (ExpiryStatus::NotYetValid, _, _) => format!(
            "is not valid before {}",
            row.not_before.as_deref().unwrap_or("?")
        ),
        (ExpiryStatus::Expired, Some(ts), _) => format!("expired on {}", date(ts)),
        (_, Some(ts), Some(d)) => format!("expires on {} (in {d} days)", date(ts)),
        _ => "has an unknown expiry".into(),
    };
    let what = match row.kind {
        CredentialKind::Token => match &row.subject {
            Some(sa) => format!("token of {sa}"),
            None => "token".into(),
        },
        kind => match &row.subject {
            Some(s) => format!("{} ({s})", kind.label()),
            None => kind.label().into(),
        },
    };
    let place = if row.location == "inline" {
        String::new()
    } else {
        format!(" in {}", row.location)
    };
    format!("{what}{place} {when}")
}

fn hint(
    cx: &Context<'_, '_, '_>,
    row: &ExpiryRow,
    entry: &crate::kubeconfig::Entry,
) -> Option<String> {
    if let Some(cmd) = vendor_hints::regenerate(cx.config, entry) {
        return Some(format!("regenerate it: `{cmd}`"));
    }
    match row.kind {
        CredentialKind::Token => {
            let (ns, name) = row.subject.as_deref()?.split_once('/')?;
            Some(token_round_trip(cx, entry, ns, name))
        }
        CredentialKind::ClientCertificate => match &row.cert {
            // A user's own certificate: no node's admin kubeconfig renews it.
            Some(c) if !c.identity.is_admin() => Some(renew::new_certificate(
                cx,
                &c.identity,
                entry.name.as_deref().unwrap_or(""),
            )),
            _ => Some(format!(
            "if this is a copy of a K3s, RKE2 or kubeadm admin kubeconfig, kubefix refreshes it from the node's file: run `{}` on the node, or pass --k3s-config PATH / --from PATH",
            cx.options.command.with_sudo(&["--apply"])
            )),
        },
        CredentialKind::CertificateAuthority => None,
    }
}

/// A new token for service account `ns/name`, put back into user `entry` in one command:
/// `kubectl config set-credentials USER --token="$(kubectl … create token …)"`. Creating a
/// token needs another working credential for the same cluster: another context of this file
/// on that cluster with another user, named with `--context`, else the hint says none is here.
fn token_round_trip(
    cx: &Context<'_, '_, '_>,
    entry: &crate::kubeconfig::Entry,
    ns: &str,
    name: &str,
) -> String {
    let kc = cx.config;
    let user = entry.name.as_deref().unwrap_or("");
    let clusters: Vec<&str> = kc
        .contexts_using(Section::Users, user)
        .filter_map(|c| c.body.and_then(|b| kc.str_of(b, "cluster")))
        .collect();
    let other = clusters.iter().find_map(|cluster| {
        kc.contexts_using(Section::Clusters, cluster)
            .find(|c| c.name.is_some() && c.body.and_then(|b| kc.str_of(b, "user")) != Some(user))
    });
    let mut create: Vec<&str> = Vec::new();
    if let Some(c) = other.and_then(|c| c.name.as_deref()) {
        create.extend(["--context", c]);
    }
    // Names last, after `--` when one starts with `-` (never read as a flag).
    if name.starts_with('-') {
        create.extend(["-n", ns, "create", "token", "--duration=8760h", "--", name]);
    } else {
        create.extend(["-n", ns, "create", "token", name, "--duration=8760h"]);
    }
    let inner = renew::kubectl(cx, &create);
    let command = if user.starts_with('-') {
        format!(
            "{} --token=\"$({inner})\" -- {}",
            renew::kubectl(cx, &["config", "set-credentials"]),
            crate::shell::quote(user)
        )
    } else {
        format!(
            "{} --token=\"$({inner})\"",
            renew::kubectl(cx, &["config", "set-credentials", user])
        )
    };
    let needs = match other.and_then(|c| c.name.as_deref()) {
        Some(c) => format!(
            "creating a token needs a working credential for the cluster: this uses context {}",
            crate::shell::quote(c)
        ),
        None => "creating a token needs a working credential for the cluster, and no other context in this file has one: add `--context NAME` (or `--kubeconfig FILE --context NAME`) of one that can create tokens to the inner kubectl".to_string(),
    };
    format!(
        "issue a new token for the service account and put it into user {}: run `{command}` ({needs}; the API server may cap the duration)",
        crate::shell::quote(user)
    )
}
