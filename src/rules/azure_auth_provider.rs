//! `azure-auth-provider`: AKS users still on the `azure` auth-provider, removed from kubectl.
//!
//! What the user saw (kubectl ≥ 1.26; verified with kubectl 1.32):
//! `error: The azure auth plugin has been removed.`
//! `Please use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead.`
//!
//! Detection: `users[].user.auth-provider.name: azure`.
//!
//! Fix: what `kubelogin convert-kubeconfig` writes (Azure/kubelogin
//! `pkg/internal/converter/convert.go`), in place of the auth-provider: exec v1beta1 with
//! `command: kubelogin`, kubelogin's `installHint`, and args `get-token --login METHOD
//! --server-id <apiserver-id>`, then per method: devicecode, spn and ropc add
//! `--client-id`, `--tenant-id`, `--environment` (if set) and `--legacy` (when `config-mode`
//! is empty or "0"); interactive adds the same but never `--legacy`; azurecli, azd, msi and
//! workloadidentity keep only `--server-id` (kubelogin drops the tenant for azurecli: a CLI
//! logged in with a managed identity must not be given one). `--azure-login` picks the
//! method (default devicecode, as kubelogin's). A config without the ids a method needs is
//! reported, not guessed.

use super::support::auth_provider::{exec_section, to_exec, users_with};
use super::support::{AzureLogin, Context, Finding, Rule, Severity};
use crate::plugins::find_on_path;

rule!(AzureAuthProviderRule, "azure-auth-provider", fixes, "AKS users on the removed azure auth-provider; converted to kubelogin as `kubelogin convert-kubeconfig` does");

/// kubelogin's `execInstallHint`, verbatim.
pub const INSTALL_HINT: &str = "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://azure.github.io/kubelogin/\n";
pub const KUBECTL_SAYS: &str = "The azure auth plugin has been removed. Please use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead.";

/// What to tell a user whose PATH lacks kubelogin (`None` when it is installed): the
/// installs kubelogin's documentation names (Azure CLI, Homebrew, winget).
pub fn install_hint(installed: bool) -> Option<String> {
    (!installed).then(|| {
        "kubelogin is not on PATH: install it with `az aks install-cli` (may need sudo), \
         `brew install Azure/kubelogin/kubelogin` or `winget install --id=Microsoft.Azure.Kubelogin -e`, \
         see https://azure.github.io/kubelogin/"
            .to_string()
    })
}

/// How to choose another way of signing in than the one converted to, unless the user chose
/// it with `--azure-login` already.
fn login_hint(cx: &Context<'_, '_, '_>, login: AzureLogin) -> Option<String> {
    let chosen = cx
        .options
        .command
        .args
        .iter()
        .any(|(f, _)| f == "--azure-login");
    if chosen {
        return None;
    }
    let other = if login == AzureLogin::AzureCli {
        AzureLogin::DeviceCode
    } else {
        AzureLogin::AzureCli
    };
    Some(format!(
        "kubelogin signs in with --login {} here (its default); to sign in another way run `{}` (methods: devicecode, azurecli, spn, msi, workloadidentity, interactive, ropc, azd)",
        login.name(),
        cx.options
            .command
            .with(&["--apply", "--azure-login", other.name()])
    ))
}

/// `prev; next`, or whichever is there.
fn join(prev: Option<String>, next: Option<String>) -> Option<String> {
    match (prev, next) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// The legacy provider's config, as kubelogin reads it.
#[derive(Default)]
pub struct AzureConfig<'a> {
    pub server_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub tenant_id: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub config_mode: Option<&'a str>,
}

/// kubelogin's args for `login`, or the missing config key that makes it impossible.
pub fn args(c: &AzureConfig<'_>, login: AzureLogin) -> Result<Vec<String>, &'static str> {
    let mut a: Vec<String> = vec!["get-token".into(), "--login".into(), login.name().into()];
    a.push("--server-id".into());
    a.push(c.server_id.ok_or("apiserver-id")?.into());
    let legacy = matches!(c.config_mode, None | Some("0"));
    let full = |a: &mut Vec<String>, with_legacy: bool| -> Result<(), &'static str> {
        a.extend(["--client-id".into(), c.client_id.ok_or("client-id")?.into()]);
        a.extend(["--tenant-id".into(), c.tenant_id.ok_or("tenant-id")?.into()]);
        if let Some(env) = c.environment {
            a.extend(["--environment".into(), env.into()]);
        }
        if with_legacy && legacy {
            a.push("--legacy".into());
        }
        Ok(())
    };
    match login {
        AzureLogin::DeviceCode | AzureLogin::Spn | AzureLogin::Ropc => full(&mut a, true)?,
        AzureLogin::Interactive => full(&mut a, false)?,
        // msi, azurecli, azd, workloadidentity: the server id only.
        _ => {}
    }
    Ok(a)
}

impl Rule for AzureAuthProviderRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        let login = cx.options.azure_login;
        let providers = users_with(kc, "azure");
        if providers.is_empty() {
            return;
        }
        let install = install_hint(find_on_path("kubelogin").is_some());
        for p in providers {
            let line = p.line(kc);
            let mut f = Finding::new(
                ID,
                Severity::Error,
                line,
                "the azure auth-provider was removed in kubectl 1.26; AKS now authenticates with kubelogin".into(),
            )
            .entry(p.user)
            .kubectl_says(KUBECTL_SAYS);
            let config = AzureConfig {
                server_id: p.config(kc, "apiserver-id"),
                client_id: p.config(kc, "client-id"),
                tenant_id: p.config(kc, "tenant-id"),
                environment: p.config(kc, "environment"),
                config_mode: p.config(kc, "config-mode"),
            };
            match args(&config, login) {
                Err(missing) => {
                    f = f.hint(format!(
                        "the auth-provider config has no {missing}, which kubelogin --login {} needs; run `kubelogin convert-kubeconfig` with the ids of your AKS cluster",
                        login.name()
                    ));
                }
                Ok(args) => {
                    let exec = exec_section("kubelogin", args, INSTALL_HINT, Vec::new());
                    match to_exec(
                        kc,
                        &p,
                        &exec,
                        &format!("kubelogin get-token --login {}", login.name()),
                    ) {
                        Ok((change, title)) => {
                            f = f.fix(title, vec![change]);
                            f.hint = login_hint(cx, login);
                        }
                        Err(e) => {
                            f = f.hint(format!(
                            "run `kubelogin convert-kubeconfig --login {}` or edit by hand ({e})",
                            login.name()
                        ))
                        }
                    }
                }
            }
            f.hint = join(f.hint.take(), install.clone());
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, fixed};
    use super::super::support::RuleOptions;
    use super::*;

    const AKS: &str = include_str!("../../testdata/aks-azure-auth-provider.yaml");
    const OLD: &str = "    auth-provider:
      config:
        access-token: eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.FAKE-aks-access-token.not-signed
        apiserver-id: 00000000-aaaa-4bbb-8ccc-000000000001
        client-id: 00000000-aaaa-4bbb-8ccc-000000000002
        config-mode: \"1\"
        environment: AzurePublicCloud
        expires-in: \"3599\"
        expires-on: \"1622568645\"
        refresh-token: 0.FAKE-aks-refresh-token-not-real
        tenant-id: 00000000-aaaa-4bbb-8ccc-000000000003
      name: azure
";

    #[test]
    fn devicecode_like_kubelogin_convert() {
        let want = AKS.replace(
            OLD,
            "    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --login
      - devicecode
      - --server-id
      - 00000000-aaaa-4bbb-8ccc-000000000001
      - --client-id
      - 00000000-aaaa-4bbb-8ccc-000000000002
      - --tenant-id
      - 00000000-aaaa-4bbb-8ccc-000000000003
      - --environment
      - AzurePublicCloud
      command: kubelogin
      installHint: \"\\nkubelogin is not installed which is required to connect to AAD enabled cluster.\\n\\nTo learn more, please go to https://azure.github.io/kubelogin/\\n\"
",
        );
        assert_ne!(want, AKS);
        assert_eq!(fixed(AKS, &RuleOptions::default()), want);
        let f = findings(AKS, &RuleOptions::default());
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].line), (ID, 18));
    }

    #[test]
    fn legacy_config_mode_and_azurecli() {
        let legacy = AKS.replace("config-mode: \"1\"", "config-mode: \"0\"");
        let out = fixed(&legacy, &RuleOptions::default());
        assert!(
            out.contains("      - AzurePublicCloud\n      - --legacy\n      command: kubelogin\n"),
            "{out}"
        );
        let cli = RuleOptions {
            azure_login: AzureLogin::AzureCli,
            ..RuleOptions::default()
        };
        let out = fixed(AKS, &cli);
        assert!(out.contains("      args:\n      - get-token\n      - --login\n      - azurecli\n      - --server-id\n      - 00000000-aaaa-4bbb-8ccc-000000000001\n      command: kubelogin\n"), "{out}");
    }

    #[test]
    fn args_per_method() {
        let c = AzureConfig {
            server_id: Some("S"),
            client_id: Some("C"),
            tenant_id: Some("T"),
            environment: None,
            config_mode: None,
        };
        let j = |l| args(&c, l).unwrap().join(" ");
        assert_eq!(
            j(AzureLogin::DeviceCode),
            "get-token --login devicecode --server-id S --client-id C --tenant-id T --legacy"
        );
        assert_eq!(
            j(AzureLogin::Interactive),
            "get-token --login interactive --server-id S --client-id C --tenant-id T"
        );
        assert_eq!(j(AzureLogin::Msi), "get-token --login msi --server-id S");
        let none = AzureConfig::default();
        assert_eq!(args(&none, AzureLogin::AzureCli), Err("apiserver-id"));
        let no_client = AzureConfig {
            server_id: Some("S"),
            ..AzureConfig::default()
        };
        assert_eq!(args(&no_client, AzureLogin::Spn), Err("client-id"));
    }

    #[test]
    fn missing_ids_are_reported_without_a_fix() {
        let src = AKS.replace(
            "        client-id: 00000000-aaaa-4bbb-8ccc-000000000002\n",
            "",
        );
        let f = findings(&src, &RuleOptions::default());
        assert_eq!(f.len(), 1);
        assert!(f[0].fix.is_none());
        assert!(f[0].hint.as_deref().unwrap().contains("no client-id"));
    }
}
