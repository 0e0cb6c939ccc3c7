//! Shared by the auth-provider rules (`gcp-auth-provider`, `azure-auth-provider`,
//! `oidc-auth-provider`): find `users[].user.auth-provider` of one provider, read its
//! config, and turn it into an `exec` section in place.

use crate::kubeconfig::{Entry, Kubeconfig};
use crate::yaml::{remove_entry, replace_entry, Change, EditError, NewValue, NodeId};

/// One user's `auth-provider` of the wanted name.
pub struct Provider<'u> {
    pub user: &'u Entry,
    /// The user body mapping.
    pub body: NodeId,
    /// The `auth-provider` mapping.
    pub node: NodeId,
    /// Its `config` mapping, if any.
    pub config: Option<NodeId>,
}

impl Provider<'_> {
    /// 1-based line of the `auth-provider` key, where findings point.
    pub fn line(&self, kc: &Kubeconfig<'_, '_>) -> usize {
        kc.line(
            kc.doc
                .get_key(self.body, "auth-provider")
                .unwrap_or(self.node),
        )
    }

    /// A config value, if it is a non-empty scalar.
    pub fn config<'k>(&self, kc: &'k Kubeconfig<'_, '_>, key: &str) -> Option<&'k str> {
        self.config
            .and_then(|c| kc.str_of(c, key))
            .filter(|v| !v.is_empty())
    }
}

/// An exec section in the key order gcloud and kubelogin write: `apiVersion` (v1beta1),
/// `args` (when there are any), `command`, `installHint`, then `extra`.
pub fn exec_section(
    command: &str,
    args: Vec<String>,
    install_hint: &str,
    extra: Vec<(String, NewValue)>,
) -> NewValue {
    let mut entries = vec![(
        "apiVersion".to_string(),
        NewValue::str("client.authentication.k8s.io/v1beta1"),
    )];
    if !args.is_empty() {
        entries.push((
            "args".to_string(),
            NewValue::List(args.into_iter().map(NewValue::Str).collect()),
        ));
    }
    entries.push(("command".to_string(), NewValue::str(command)));
    entries.push(("installHint".to_string(), NewValue::str(install_hint)));
    entries.extend(extra);
    NewValue::Map(entries)
}

/// Every user whose auth-provider is called `name`.
pub fn users_with<'u>(kc: &'u Kubeconfig<'_, '_>, name: &str) -> Vec<Provider<'u>> {
    let doc = kc.doc;
    kc.users
        .iter()
        .filter_map(|user| {
            let body = user.body?;
            let node = doc.resolve(kc.get(body, "auth-provider")?);
            doc.entries(node)?;
            if kc.str_of(node, "name") != Some(name) {
                return None;
            }
            let config = kc
                .get(node, "config")
                .map(|c| doc.resolve(c))
                .filter(|&c| doc.entries(c).is_some());
            Some(Provider {
                user,
                body,
                node,
                config,
            })
        })
        .collect()
}

/// Put `exec` where `auth-provider` is. A user that already has an `exec` section (client-go
/// refuses both) just loses the auth-provider. Returns the change and the fix title.
pub fn to_exec(
    kc: &Kubeconfig<'_, '_>,
    p: &Provider<'_>,
    exec: &NewValue,
    what: &str,
) -> Result<(Change, String), EditError> {
    if kc.get(p.body, "exec").is_some() {
        let c = remove_entry(kc.doc, p.body, "auth-provider")?;
        return Ok((
            c,
            "remove the auth-provider; the user already has an exec section".into(),
        ));
    }
    let c = replace_entry(kc.doc, p.body, "auth-provider", "exec", exec)?;
    Ok((c, format!("replace the auth-provider with exec: {what}")))
}
