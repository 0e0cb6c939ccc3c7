//! `auth-methods`: users whose credentials client-go refuses to combine, or that are half
//! there.
//!
//! What the user saw (verified with kubectl 1.32, USER filled in):
//! - `more than one authentication method found for USER; found [token basicAuth], only one is allowed`
//! - `authProvider cannot be provided in combination with an exec plugin for USER`
//! - `client-key-data or client-key must be specified for USER to use the clientCert authentication method.`
//! - `requesting uid, groups or user-extra for USER without impersonating a user`
//! - a client key without a certificate is not validated: client-go drops it and, with no
//!   credentials left, asks `Please enter Username:` (on a pipe: `error: EOF`).
//!
//! Detection: `users[].user` keys as client-go's `validateAuthInfo` reads them (a key counts
//! when its value is non-empty). Report only: which credential is the right one is the
//! user's call.

use super::support::view::has;
use super::support::view::key_line;
use super::support::{Context, Finding, Rule, Severity};
use crate::kubeconfig::Kubeconfig;
use crate::yaml::NodeId;

rule!(AuthMethodsRule, "auth-methods", reports, "users with token and basic auth, exec with auth-provider, a client certificate without key (or the reverse), or impersonation extras without as");

/// A key whose value is a non-empty scalar, sequence or mapping.
fn present(kc: &Kubeconfig<'_, '_>, map: NodeId, key: &str) -> bool {
    let Some(v) = kc.get(map, key) else {
        return false;
    };
    match (kc.doc.scalar(v), kc.doc.items(v), kc.doc.entries(v)) {
        (Some(s), _, _) => !s.is_empty(),
        (_, Some(items), _) => !items.is_empty(),
        (_, _, Some(entries)) => !entries.is_empty(),
        _ => false,
    }
}

impl Rule for AuthMethodsRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        for user in &kc.users {
            let Some(body) = user.body else { continue };
            let name = user.name.as_deref().unwrap_or("");
            let mut push =
                |key: &str, code: &'static str, message: String, said: String, hint: &str| {
                    out.push(
                        Finding::new(ID, Severity::Error, key_line(kc, body, key), message)
                            .entry(user)
                            .code(code)
                            .kubectl_says(said)
                            .hint(hint),
                    );
                };
            let basic = ["username", "password"]
                .into_iter()
                .find(|k| has(kc, body, k));
            if let (true, Some(basic)) = (has(kc, body, "token"), basic) {
                push(
                    basic,
                    "token-and-basic-auth",
                    format!("token and {basic} are both set; kubectl allows one authentication method"),
                    format!("more than one authentication method found for {name}; found [token basicAuth], only one is allowed"),
                    "keep one: remove username/password to use the token, or the token to use basic auth",
                );
            }
            let is_map = |k: &str| kc.get(body, k).is_some_and(|n| kc.doc.entries(n).is_some());
            if is_map("exec") && is_map("auth-provider") {
                push(
                    "auth-provider",
                    "exec-and-auth-provider",
                    "exec and auth-provider are both set; kubectl refuses the pair".into(),
                    format!("authProvider cannot be provided in combination with an exec plugin for {name}"),
                    "remove auth-provider (the exec plugin replaces it) or exec",
                );
            }
            let cert = ["client-certificate-data", "client-certificate"]
                .into_iter()
                .find(|k| has(kc, body, k));
            let key = ["client-key-data", "client-key"]
                .into_iter()
                .find(|k| has(kc, body, k));
            match (cert, key) {
                (Some(cert), None) => push(
                    cert,
                    "cert-without-key",
                    format!("{cert} is set but neither client-key-data nor client-key"),
                    format!("client-key-data or client-key must be specified for {name} to use the clientCert authentication method."),
                    "add the certificate's private key as client-key-data (base64 of the PEM) or client-key (a path)",
                ),
                (None, Some(key)) => push(
                    key,
                    "key-without-cert",
                    format!("{key} is set but neither client-certificate-data nor client-certificate; kubectl ignores the key and asks for a username and password"),
                    "Please enter Username:".into(),
                    "add the client certificate as client-certificate-data (base64 of the PEM) or client-certificate (a path)",
                ),
                _ => {}
            }
            if !has(kc, body, "as") {
                if let Some(extra) = ["as-uid", "as-groups", "as-user-extra"]
                    .into_iter()
                    .find(|k| present(kc, body, k))
                {
                    push(
                        extra,
                        "impersonation-without-as",
                        format!("{extra} is set without as (the user to impersonate)"),
                        format!("requesting uid, groups or user-extra for {name} without impersonating a user"),
                        "add as: USER (the user to impersonate), or remove the impersonation keys",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::findings;
    use super::super::support::RuleOptions;
    use super::*;

    fn ours(src: &str) -> Vec<(Option<&'static str>, usize, String)> {
        findings(src, &RuleOptions::default())
            .into_iter()
            .filter(|f| f.rule == ID)
            .map(|f| {
                assert_eq!(f.severity, Severity::Error);
                assert!(f.hint.is_some());
                (f.code, f.line, f.kubectl_error.unwrap())
            })
            .collect()
    }

    #[test]
    fn reports_each_combination_client_go_refuses() {
        let src = "apiVersion: v1
kind: Config
users:
- name: both
  user:
    token: abc
    username: admin
- name: exec-ap
  user:
    exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1}
    auth-provider: {name: oidc}
- name: cert-only
  user:
    client-certificate-data: LS0t
- name: key-only
  user:
    client-key: /k
- name: groups
  user: {token: t, as-groups: [g]}
- name: fine
  user: {token: t, client-certificate-data: LS0t, client-key-data: LS0t, as: bob, as-groups: [g], as-user-extra: {}}
- name: empty-extras
  user: {token: t, as-groups: [], as-uid: ''}
";
        assert_eq!(
            ours(src),
            vec![
                (Some("token-and-basic-auth"), 7, "more than one authentication method found for both; found [token basicAuth], only one is allowed".to_string()),
                (Some("exec-and-auth-provider"), 11, "authProvider cannot be provided in combination with an exec plugin for exec-ap".to_string()),
                (Some("cert-without-key"), 14, "client-key-data or client-key must be specified for cert-only to use the clientCert authentication method.".to_string()),
                (Some("key-without-cert"), 17, "Please enter Username:".to_string()),
                (Some("impersonation-without-as"), 19, "requesting uid, groups or user-extra for groups without impersonating a user".to_string()),
            ]
        );
    }
}
