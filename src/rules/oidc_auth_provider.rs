//! `oidc-auth-provider`: users on the `oidc` auth-provider, deprecated in favour of exec
//! credential plugins.
//!
//! What the user sees: nothing yet — kubectl 1.32 still accepts it (verified: with the
//! fixture it gets past authentication). The in-tree provider is deprecated and the gcp and
//! azure ones were removed before it, so this is a warning.
//!
//! Detection: `users[].user.auth-provider.name: oidc`.
//!
//! Fix (only with `--migrate-oidc`): an exec section for int128/kubelogin, as its setup
//! prints it: `command: kubectl`, args `oidc-login get-token --oidc-issuer-url=…
//! --oidc-client-id=… [--oidc-client-secret=…] [--certificate-authority(-data)=…]
//! [--oidc-extra-scope=…]`. Without the flag the finding says what the migration writes.
//! The cached id-token and refresh-token are dropped; kubelogin keeps its own cache.

use super::support::auth_provider::{exec_section, to_exec, users_with};
use super::support::{Context, Finding, Rule, Severity};
use crate::yaml::NewValue;

rule!(OidcAuthProviderRule, "oidc-auth-provider", fixes, "users on the deprecated oidc auth-provider; --migrate-oidc moves them to int128/kubelogin (kubectl oidc-login)");

pub const INSTALL_HINT: &str = "kubectl oidc-login is needed: kubectl krew install oidc-login, or see https://github.com/int128/kubelogin";

/// int128/kubelogin's args for one provider config (read with `get`), or the missing key.
pub fn args<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Vec<String>, &'static str> {
    let mut a = vec!["oidc-login".to_string(), "get-token".to_string()];
    a.push(format!(
        "--oidc-issuer-url={}",
        get("idp-issuer-url").ok_or("idp-issuer-url")?
    ));
    a.push(format!(
        "--oidc-client-id={}",
        get("client-id").ok_or("client-id")?
    ));
    if let Some(s) = get("client-secret") {
        a.push(format!("--oidc-client-secret={s}"));
    }
    if let Some(ca) = get("idp-certificate-authority") {
        a.push(format!("--certificate-authority={ca}"));
    }
    if let Some(ca) = get("idp-certificate-authority-data") {
        a.push(format!("--certificate-authority-data={ca}"));
    }
    if let Some(scopes) = get("extra-scopes") {
        for s in scopes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            a.push(format!("--oidc-extra-scope={s}"));
        }
    }
    Ok(a)
}

impl Rule for OidcAuthProviderRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        for p in users_with(kc, "oidc") {
            let line = p.line(kc);
            let mut f = Finding::new(
                ID,
                Severity::Warning,
                line,
                "the oidc auth-provider is deprecated; exec credential plugins replace it".into(),
            )
            .entry(p.user);
            match args(|k| p.config(kc, k)) {
                Err(missing) => {
                    f = f.hint(format!(
                        "the oidc config has no {missing}; set up int128/kubelogin by hand (kubectl oidc-login setup)"
                    ))
                }
                Ok(_) if !cx.options.migrate_oidc => {
                    f = f.hint(format!(
                        "run `{}` to switch to exec: kubectl oidc-login get-token (int128/kubelogin)",
                        cx.options.command.with(&["--migrate-oidc"])
                    ))
                }
                Ok(args) => {
                    let exec = exec_section(
                        "kubectl",
                        args,
                        INSTALL_HINT,
                        vec![("interactiveMode".to_string(), NewValue::str("IfAvailable"))],
                    );
                    match to_exec(kc, &p, &exec, "kubectl oidc-login get-token") {
                        Ok((change, title)) => f = f.fix(title, vec![change]),
                        Err(e) => f = f.hint(format!("migrate by hand ({e})")),
                    }
                }
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, fixed};
    use super::super::support::RuleOptions;
    use super::*;

    const OIDC: &str = include_str!("../../testdata/oidc-auth-provider.yaml");

    #[test]
    fn warns_without_the_flag() {
        let f = findings(OIDC, &RuleOptions::default());
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].rule, f[0].severity, f[0].line),
            (ID, Severity::Warning, 19)
        );
        assert!(f[0].fix.is_none());
        assert!(f[0].hint.as_deref().unwrap().contains("--migrate-oidc"));
    }

    #[test]
    fn migrates_with_the_flag() {
        let opts = RuleOptions {
            migrate_oidc: true,
            ..RuleOptions::default()
        };
        let out = fixed(OIDC, &opts);
        let start = OIDC.find("    auth-provider:").unwrap();
        assert_eq!(&out[..start], &OIDC[..start]);
        let idp_ca = OIDC
            .lines()
            .find_map(|l| l.trim().strip_prefix("idp-certificate-authority-data: "))
            .unwrap();
        assert_eq!(
            out[start..],
            format!(
                "    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - oidc-login
      - get-token
      - --oidc-issuer-url=https://dex.example.internal
      - --oidc-client-id=kubernetes
      - --oidc-client-secret=FAKE-oidc-client-secret
      - --certificate-authority-data={idp_ca}
      command: kubectl
      installHint: \"kubectl oidc-login is needed: kubectl krew install oidc-login, or see https://github.com/int128/kubelogin\"
      interactiveMode: IfAvailable
"
            )
        );
        // The migrated text has nothing left to fix or warn about (whether kubectl is
        // installed where the test runs is another matter).
        let mut opts = opts;
        opts.selection.skip.push("exec-on-path".into());
        assert!(findings(&out, &opts).is_empty());
    }
}
