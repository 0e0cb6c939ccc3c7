//! Advice for credentials kubefix cannot renew itself, as commands to paste (#14): kubectl
//! on the same file kubefix checked, a new client certificate for a user's own identity
//! (the CertificateSigningRequest flow). Every word is shell-quoted.

use super::Context;
use crate::inspect::cert::Identity;
use crate::shell::quote;

/// `kubectl WORDS` on the file `cx` checks: plain `kubectl` when it is the default file (the
/// user named no file and no `$KUBECONFIG`), else with `--kubeconfig FILE`. Words are quoted.
pub fn kubectl(cx: &Context<'_, '_, '_>, words: &[&str]) -> String {
    let mut out = vec!["kubectl".to_string()];
    if !is_default_file(cx) {
        out.push("--kubeconfig".into());
        out.push(quote(&cx.path.to_string_lossy()));
    }
    out.extend(words.iter().map(|w| quote(w)));
    out.join(" ")
}

/// Did kubefix read the default file (no `--kubeconfig`, no `$KUBECONFIG`)? kubectl reads
/// the same one without being told.
fn is_default_file(cx: &Context<'_, '_, '_>) -> bool {
    let c = &cx.options.command;
    c.kubeconfig_env.is_none() && !c.args.iter().any(|(f, _)| f == "--kubeconfig")
}

/// A name for the key, request and certificate files and the CertificateSigningRequest
/// object: the CN in the characters a Kubernetes object name allows (lower case, digits,
/// `-`, `.`), else `user`.
pub fn file_stem(identity: &Identity) -> String {
    let cn = identity.common_name.as_deref().unwrap_or("");
    let mapped: String = cn
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.') => c,
            _ => '-',
        })
        .collect();
    let trimmed: String = mapped
        .trim_matches(|c| c == '-' || c == '.')
        .chars()
        .take(63)
        .collect();
    let trimmed = trimmed.trim_end_matches(['-', '.']).to_string();
    if trimmed.is_empty() {
        "user".into()
    } else {
        trimmed
    }
}

/// openssl's `-subj` for `identity`: `/CN=jane/O=developers`, with `\`, `/` and `+` inside a
/// value escaped as openssl reads them.
pub fn openssl_subject(identity: &Identity) -> String {
    let esc = |v: &str| {
        let mut s = String::with_capacity(v.len());
        for c in v.chars() {
            if matches!(c, '\\' | '/' | '+') {
                s.push('\\');
            }
            s.push(c);
        }
        s
    };
    let mut subj = format!("/CN={}", esc(identity.common_name.as_deref().unwrap_or("")));
    for o in &identity.organizations {
        subj.push_str("/O=");
        subj.push_str(&esc(o));
    }
    subj
}

/// The way to a new client certificate for a user's own identity (not a node's admin, so no
/// admin kubeconfig can renew it): ask the cluster admin, or go through a
/// CertificateSigningRequest, then put it into user entry `user` of this file.
pub fn new_certificate(cx: &Context<'_, '_, '_>, identity: &Identity, user: &str) -> String {
    let stem = file_stem(identity);
    let (key, csr, crt) = (
        format!("{stem}.key"),
        format!("{stem}.csr"),
        format!("{stem}.crt"),
    );
    // Spaced JSON: reports cut a word of over 200 characters, and the stem is up to 63.
    let request = format!(
        "{{\"apiVersion\": \"certificates.k8s.io/v1\", \"kind\": \"CertificateSigningRequest\", \"metadata\": {{\"name\": \"{stem}\"}}, \"spec\": {{\"request\": \"%s\", \"signerName\": \"kubernetes.io/kube-apiserver-client\", \"usages\": [\"client auth\"]}}}}"
    );
    format!(
        "{identity} is a user's own certificate, not a cluster admin's: a node's admin kubeconfig cannot renew it (and its credentials would make this entry a cluster admin). \
         Ask the cluster's administrator for a new certificate for {identity}, or request one: \
         `openssl req -new -newkey rsa:2048 -nodes -keyout {key_q} -out {csr_q} -subj {subj}`, \
         then with a working credential `printf {request} \"$(openssl base64 -A -in {csr_q})\" | kubectl create -f -`, \
         an administrator approves it: `kubectl certificate approve {stem_q}`, \
         then `kubectl get csr {stem_q} -o jsonpath='{{.status.certificate}}' | openssl base64 -d -A > {crt_q}` \
         and `{set}`",
        key_q = quote(&key),
        csr_q = quote(&csr),
        crt_q = quote(&crt),
        stem_q = quote(&stem),
        subj = quote(&openssl_subject(identity)),
        request = quote(&request),
        set = kubectl(
            cx,
            &crate::shell::operands(
                &["config", "set-credentials"],
                &[user],
                &[
                    &format!("--client-certificate={crt}"),
                    &format!("--client-key={key}"),
                    "--embed-certs=true",
                ],
            )
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(cn: &str, orgs: &[&str]) -> Identity {
        Identity {
            common_name: Some(cn.into()),
            organizations: orgs.iter().map(|o| o.to_string()).collect(),
        }
    }

    #[test]
    fn file_names_are_object_names() {
        assert_eq!(file_stem(&id("jane", &[])), "jane");
        assert_eq!(file_stem(&id("Jane Doe", &[])), "jane-doe");
        assert_eq!(
            file_stem(&id("system:kube-proxy", &[])),
            "system-kube-proxy"
        );
        assert_eq!(file_stem(&id("../$(id)", &[])), "id");
        assert_eq!(file_stem(&id("", &[])), "user");
    }

    #[test]
    fn openssl_subjects_escape_separators() {
        assert_eq!(
            openssl_subject(&id("jane", &["developers", "ops"])),
            "/CN=jane/O=developers/O=ops"
        );
        assert_eq!(openssl_subject(&id("a/b+c", &[])), "/CN=a\\/b\\+c");
    }
}
