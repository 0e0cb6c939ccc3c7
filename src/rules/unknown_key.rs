//! `unknown-key`: keys kubectl drops without a word.
//!
//! What the user saw (verified with kubectl 1.32): nothing. client-go decodes the kubeconfig
//! into its `clientcmd/api/v1` types and ignores every field they do not have, so
//! `act-as: bob` impersonates nobody, `client-certificate-date:` sends no certificate, and a
//! `server:` written at the top level (or beside `name:` instead of under `cluster:`)
//! leaves the cluster without a server. Whatever kubectl then says comes from the missing
//! value, and other rules report that as the error it is; this rule says why.
//!
//! Detection: the known keys of each mapping are the JSON field names of client-go's v1
//! types (`Config`, `NamedCluster`/`Cluster`, `NamedContext`/`Context`,
//! `NamedAuthInfo`/`AuthInfo`, `ExecConfig`, `ExecEnvVar`, `AuthProviderConfig`,
//! `Preferences`, `NamedExtension`), as `schema.rs` holds them; the values of `extensions`,
//! auth-provider `config` and `as-user-extra` are free-form. Keys are case-sensitive for
//! client-go. A suggestion is made when the key is known one level off (where it belongs),
//! is a common alias (`act-as` → `as`), or is close: the same letters ignoring case, `-`
//! and `_`, or within a small edit distance. Linear in the file: each mapping once, and
//! suggestions only for the findings that are listed.
//!
//! Warning, report only: the intended key is a guess.

use super::support::spelling::distance;
use super::support::{Context, Finding, Rule, Severity};

rule!(
    UnknownKeyRule,
    "unknown-key",
    reports,
    "keys kubectl silently ignores (a typo, or a key at the wrong level), with a did-you-mean"
);

/// Suggestions are worked out for this many keys (the plan lists no more per rule).
const SUGGEST_AT_MOST: usize = 50;

/// Names people write for a key, and the key client-go knows.
const ALIASES: &[(&str, &str)] = &[
    ("act-as", "as"),
    ("impersonate", "as"),
    ("as-user", "as"),
    ("as-group", "as-groups"),
    ("groups", "as-groups"),
    ("insecure", "insecure-skip-tls-verify"),
    ("skip-tls-verify", "insecure-skip-tls-verify"),
    ("insecure-skip-verify", "insecure-skip-tls-verify"),
    ("ca", "certificate-authority"),
    ("ca-file", "certificate-authority"),
    ("ca-data", "certificate-authority-data"),
    ("cert", "client-certificate"),
    ("cert-data", "client-certificate-data"),
    ("key", "client-key"),
    ("key-data", "client-key-data"),
    ("bearer-token", "token"),
    ("proxy", "proxy-url"),
    ("url", "server"),
    ("ns", "namespace"),
];

/// `ab-c_D` → `abcd`: what differs only in case, `-` and `_` is the same key to a reader.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The known key `key` most likely stands for, among `known`.
fn did_you_mean(key: &str, known: &[&'static str]) -> Option<&'static str> {
    if key.len() > 64 {
        return None;
    }
    if let Some(&(_, to)) = ALIASES.iter().find(|(from, _)| fold(from) == fold(key)) {
        if let Some(k) = known.iter().find(|k| **k == to) {
            return Some(k);
        }
    }
    let folded = fold(key);
    let limit = match folded.len() {
        0..=3 => 0,
        4..=6 => 1,
        7..=14 => 2,
        _ => 3,
    };
    known
        .iter()
        .map(|k| (distance(&folded, &fold(k)), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// `users[3].user.exec` → `users[].user.exec`.
fn pattern(place: &str) -> String {
    let mut out = String::with_capacity(place.len());
    let mut in_index = false;
    for c in place.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

/// Where `key` is known instead, preferring the place's own section (`server` beside a
/// cluster's `name:` belongs under its `cluster:`).
fn belongs(key: &str, place: &str) -> Option<&'static str> {
    let here = pattern(place);
    let section = here.split(['[', '.']).next().unwrap_or("");
    let mut homes: Vec<&'static str> = crate::schema::places()
        .into_iter()
        .filter(|(p, keys)| *p != here && keys.contains(&key))
        .map(|(p, _)| p)
        .collect();
    // The place's own section first (false sorts before true).
    homes.sort_by_key(|p| section.is_empty() || !p.starts_with(section));
    homes.first().copied()
}

/// A key as it may be shown: short and plain, else only its length (a token pasted where a
/// key belongs is still a token).
fn shown(key: &str) -> String {
    if key.len() <= 40
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        format!("`{key}`")
    } else {
        format!("a key of {} characters", key.chars().count())
    }
}

/// The cluster, context or user a place is in (`users[3].user.exec` → the fourth user):
/// the view has one entry per list item, in order.
fn entry_of<'k>(
    kc: &'k crate::kubeconfig::Kubeconfig<'_, '_>,
    place: &str,
) -> Option<&'k crate::kubeconfig::Entry> {
    let (section, rest) = place.split_once('[')?;
    let index: usize = rest.split_once(']')?.0.parse().ok()?;
    let entries = match section {
        "clusters" => &kc.clusters,
        "contexts" => &kc.contexts,
        "users" => &kc.users,
        _ => return None,
    };
    entries.get(index)
}

impl Rule for UnknownKeyRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        // No kubeconfig key at all: not a kubeconfig, and `no-kubeconfig-keys` says so once
        // (a values file would otherwise get a warning for each of its keys).
        if kc.no_kubeconfig_keys {
            return;
        }
        for (n, u) in crate::schema::unknown_keys(kc.doc).into_iter().enumerate() {
            let key = kc.doc.scalar(u.key).unwrap_or("");
            let at = |p: &str| {
                if p.is_empty() || p == "the top level" {
                    "at the top level".to_string()
                } else {
                    format!("in {p}")
                }
            };
            let place = at(&u.place);
            let mut f = Finding::new(
                ID,
                Severity::Warning,
                kc.line(u.key),
                format!(
                    "{} is not a key kubectl knows {place}; kubectl ignores it",
                    shown(key)
                ),
            )
            .code("unknown-key");
            if let Some(entry) = entry_of(kc, &u.place) {
                f = f.entry(entry);
            }
            if n < SUGGEST_AT_MOST {
                if let Some(home) = belongs(key, &u.place) {
                    f.message.push_str(&format!(" (it belongs {})", at(home)));
                    f = f.hint(format!("move {} {}", shown(key), at(home)));
                } else if let Some(k) = did_you_mean(key, &u.known) {
                    f.message.push_str(&format!("; did you mean `{k}`?"));
                    f = f.hint(format!("rename {} to `{k}`", shown(key)));
                } else {
                    f = f.hint(format!(
                        "remove it, or use one of the keys kubectl reads there: {}",
                        u.known.join(", ")
                    ));
                }
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, rule_findings};
    use super::super::support::RuleOptions;
    use super::*;

    #[test]
    fn suggestions() {
        let user = crate::schema::places()[1].1.clone();
        assert_eq!(did_you_mean("act-as", &user), Some("as"));
        assert_eq!(
            did_you_mean("client-certificate-date", &user),
            Some("client-certificate-data")
        );
        assert_eq!(did_you_mean("token_file", &user), Some("tokenFile"));
        assert_eq!(did_you_mean("Token", &user), Some("token"));
        assert_eq!(did_you_mean("colour", &user), None);
        assert_eq!(belongs("proxy-url", ""), Some("clusters[].cluster"));
        assert_eq!(belongs("token", ""), Some("users[].user"));
        assert_eq!(belongs("server", "clusters[2]"), Some("clusters[].cluster"));
        assert_eq!(
            belongs("server", "contexts[0].context"),
            Some("clusters[].cluster")
        );
        assert_eq!(
            belongs("command", "users[0].user"),
            Some("users[].user.exec")
        );
        assert_eq!(
            pattern("users[12].user.exec.env[3]"),
            "users[].user.exec.env[]"
        );
    }

    #[test]
    fn reports_ignored_keys_and_leaves_the_errors() {
        let src = "apiVersion: v1
kind: Config
proxy-url: http://p:3128
x-defaults: &d {server: 'https://h'}
clusters:
- name: c
  cluster:
    <<: *d
    insecure-skip-tls-verify: true
    extensions:
    - name: e
      extension: {anything: goes}
- name: flat
  server: https://h
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
users:
- name: u
  user:
    token: t
    act-as: bob
    as-groups: [devs]
    auth-provider: {name: oidc, config: {whatever: x}}
    exec: {command: sh, apiVersion: client.authentication.k8s.io/v1beta1, Args: [a]}
";
        let f = rule_findings(&UnknownKeyRule, src, &RuleOptions::default());
        let got: Vec<_> = f.iter().map(|f| (f.line, f.message.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (3, "`proxy-url` is not a key kubectl knows at the top level; kubectl ignores it (it belongs in clusters[].cluster)"),
                (14, "`server` is not a key kubectl knows in clusters[1]; kubectl ignores it (it belongs in clusters[].cluster)"),
                (23, "`act-as` is not a key kubectl knows in users[0].user; kubectl ignores it; did you mean `as`?"),
                (26, "`Args` is not a key kubectl knows in users[0].user.exec; kubectl ignores it; did you mean `args`?"),
            ]
        );
        assert!(f.iter().all(|f| f.severity == Severity::Warning));
        assert_eq!(f[2].entry.as_ref().unwrap().to_string(), "users/u");
        assert_eq!(f[1].entry.as_ref().unwrap().to_string(), "clusters/flat");
        // The error act-as leaves (as-groups without as) is still reported.
        let all = findings(src, &RuleOptions::default());
        assert!(all.iter().any(|f| f.severity == Severity::Error
            && f.kubectl_error.as_deref()
                == Some(
                    "requesting uid, groups or user-extra for u without impersonating a user"
                )));
    }

    #[test]
    fn an_aliased_mapping_is_walked_once() {
        // 2,000 users sharing one aliased user body with an unknown key: one finding.
        let mut src = String::from(
            "apiVersion: v1\nkind: Config\nusers:\n- name: u0\n  user: &b {token: t, tokne: x}\n",
        );
        for i in 1..2000 {
            src.push_str(&format!("- name: u{i}\n  user: *b\n"));
        }
        assert_eq!(
            rule_findings(&UnknownKeyRule, &src, &RuleOptions::default()).len(),
            1
        );
    }
}
