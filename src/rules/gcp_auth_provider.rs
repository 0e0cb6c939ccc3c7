//! `gcp-auth-provider`: GKE users still on the `gcp` auth-provider, removed from kubectl.
//!
//! What the user saw (kubectl ≥ 1.26; verified with kubectl 1.32):
//! `error: The gcp auth plugin has been removed.`
//! `Please use the "gke-gcloud-auth-plugin" kubectl/client-go credential plugin instead.`
//!
//! Detection: `users[].user.auth-provider.name: gcp`.
//!
//! Fix: the `auth-provider` entry (with its cached access token) becomes, in place, the exec
//! section `gcloud container clusters get-credentials` writes today (googlecloudsdk
//! `api_lib/container/kubeconfig.py`, `_ExecAuthPlugin`): apiVersion v1beta1,
//! `command: gke-gcloud-auth-plugin`, gcloud's `installHint`, `provideClusterInfo: true`.
//! A provider without `cmd-path` used Google application default credentials instead of
//! gcloud, so it gets `args: [--use_application_default_credentials]`, as gcloud writes for
//! that case. When `gke-gcloud-auth-plugin` is not on PATH the finding says how to install it.

use super::support::auth_provider::{exec_section, to_exec, users_with};
use super::support::{Context, Finding, Rule, Severity};
use crate::plugins::find_on_path;
use crate::yaml::NewValue;

rule!(GcpAuthProviderRule, "gcp-auth-provider", fixes, "GKE users on the removed gcp auth-provider; replaced by the gke-gcloud-auth-plugin exec section");

pub const PLUGIN: &str = "gke-gcloud-auth-plugin";
/// gcloud's `GKE_GCLOUD_AUTH_INSTALL_HINT`, verbatim.
pub const INSTALL_HINT: &str = "Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin";
pub const KUBECTL_SAYS: &str = "The gcp auth plugin has been removed. Please use the \"gke-gcloud-auth-plugin\" kubectl/client-go credential plugin instead.";

/// The exec section for one gcp provider.
fn exec_value(uses_adc: bool) -> NewValue {
    let args = if uses_adc {
        vec!["--use_application_default_credentials".to_string()]
    } else {
        Vec::new()
    };
    exec_section(
        PLUGIN,
        args,
        INSTALL_HINT,
        vec![("provideClusterInfo".to_string(), NewValue::Bool(true))],
    )
}

/// What to tell a user whose PATH lacks the plugin (`None` when it is installed).
pub fn install_hint(installed: bool) -> Option<String> {
    (!installed).then(|| {
        format!(
            "{PLUGIN} is not on PATH: install it with `gcloud components install {PLUGIN}` \
             (or the package google-cloud-cli-gke-gcloud-auth-plugin), see \
             https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin"
        )
    })
}

impl Rule for GcpAuthProviderRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        let providers = users_with(kc, "gcp");
        if providers.is_empty() {
            return;
        }
        let hint = install_hint(find_on_path(PLUGIN).is_some());
        for p in providers {
            let line = p.line(kc);
            let mut f = Finding::new(
                ID,
                Severity::Error,
                line,
                "the gcp auth-provider was removed in kubectl 1.26; GKE now authenticates with gke-gcloud-auth-plugin".into(),
            )
            .entry(p.user)
            .kubectl_says(KUBECTL_SAYS);
            let uses_adc = p.config(kc, "cmd-path").is_none();
            match to_exec(kc, &p, &exec_value(uses_adc), PLUGIN) {
                Ok((change, title)) => f = f.fix(title, vec![change]),
                Err(e) => {
                    f = f.hint(format!(
                        "replace auth-provider by exec with command {PLUGIN} by hand ({e})"
                    ))
                }
            }
            if let Some(h) = &hint {
                f.hint = Some(match f.hint.take() {
                    Some(prev) => format!("{prev}; {h}"),
                    None => h.clone(),
                });
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, fixed};
    use super::*;

    const GKE: &str = include_str!("../../testdata/gke-gcp-auth-provider.yaml");

    #[test]
    fn replaces_the_provider_with_gcloud_exec_section() {
        let out = fixed(GKE, &Default::default());
        let want = GKE.replace(
            "    auth-provider:
      config:
        access-token: ya29.FAKE-gke-access-token-not-real-0123456789
        cmd-args: config config-helper --format=json
        cmd-path: /usr/lib/google-cloud-sdk/bin/gcloud
        expiry: \"2021-06-01T17:30:45Z\"
        expiry-key: '{.credential.token_expiry}'
        token-key: '{.credential.access_token}'
      name: gcp
",
            "    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: \"Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin\"
      provideClusterInfo: true
",
        );
        assert_ne!(want, GKE);
        assert_eq!(out, want);
        let f = findings(GKE, &Default::default());
        let g: Vec<_> = f.iter().filter(|f| f.rule == ID).collect();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].line, 18);
        assert_eq!(g[0].kubectl_error.as_deref(), Some(KUBECTL_SAYS));
    }

    #[test]
    fn flow_style_with_comments_and_adc() {
        let src = "apiVersion: v1
kind: Config
users:
- name: gke # legacy
  user: {auth-provider: {name: gcp, config: {access-token: ya29.x}}}  # old
- name: gke2
  user:
    # before
    auth-provider: {name: gcp}
    username: x
";
        let out = fixed(src, &Default::default());
        assert_eq!(
            out,
            "apiVersion: v1
kind: Config
users:
- name: gke # legacy
  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, args: [--use_application_default_credentials], command: gke-gcloud-auth-plugin, installHint: \"Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin\", provideClusterInfo: true}}  # old
- name: gke2
  user:
    # before
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --use_application_default_credentials
      command: gke-gcloud-auth-plugin
      installHint: \"Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin\"
      provideClusterInfo: true
    username: x
"
        );
    }

    #[test]
    fn existing_exec_means_only_removal() {
        let src = "apiVersion: v1
kind: Config
users:
- name: both
  user:
    auth-provider:
      name: gcp
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
";
        assert_eq!(
            fixed(src, &Default::default()),
            "apiVersion: v1
kind: Config
users:
- name: both
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
"
        );
    }

    #[test]
    fn hint_only_when_plugin_missing() {
        assert!(install_hint(true).is_none());
        assert!(install_hint(false)
            .unwrap()
            .contains("gcloud components install gke-gcloud-auth-plugin"));
    }
}
