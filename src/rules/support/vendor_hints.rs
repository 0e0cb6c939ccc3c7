//! The command that regenerates an entry's credentials, when kubefix cannot refresh them from
//! a file on this machine. Filled in from the entry itself; never contains a secret.
//!
//! | shape | command |
//! |---|---|
//! | EKS: names `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`, or exec args `--cluster-name`/`--region` | `aws eks update-kubeconfig --name NAME --region REGION [--profile P]` |
//! | GKE: names `gke_PROJECT_LOCATION_CLUSTER` | `gcloud container clusters get-credentials CLUSTER --location LOCATION --project PROJECT` |
//! | AKS: server on `*.azmk8s.io`, kubelogin exec or `azure` auth-provider | `az aks get-credentials --resource-group <RESOURCE_GROUP> --name NAME` |
//! | minikube: certificate paths under `.minikube/profiles/PROFILE/` | `minikube update-context -p PROFILE` |

use crate::kubeconfig::{Entry, Kubeconfig};

/// The user and cluster entries that belong together through a context.
fn pairs<'e>(
    kc: &'e Kubeconfig<'_, '_>,
    entry: &Entry,
) -> Vec<(Option<&'e Entry>, Option<&'e Entry>)> {
    use crate::kubeconfig::Section;
    let Some(name) = entry.name.as_deref() else {
        return Vec::new();
    };
    let by = |section, key: &str, ctx: &Entry| {
        let name = kc.str_of(ctx.body?, key)?;
        kc.entry(section, name)
    };
    let mut out: Vec<_> = kc
        .contexts_using(entry.section, name)
        .map(|ctx| {
            (
                by(Section::Users, "user", ctx),
                by(Section::Clusters, "cluster", ctx),
            )
        })
        .collect();
    if out.is_empty() {
        match entry.section {
            Section::Users => out.push((kc.entry(Section::Users, name), None)),
            Section::Clusters => out.push((None, kc.entry(Section::Clusters, name))),
            Section::Contexts => {}
        }
    }
    out
}

fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn eks_arn(name: &str) -> Option<(String, String)> {
    let rest = name.strip_prefix("arn:aws:eks:")?;
    let mut parts = rest.splitn(3, ':');
    let region = parts.next()?;
    let _account = parts.next()?;
    let cluster = parts.next()?.strip_prefix("cluster/")?;
    (!region.is_empty() && !cluster.is_empty()).then(|| (cluster.to_string(), region.to_string()))
}

fn eks(kc: &Kubeconfig<'_, '_>, user: Option<&Entry>, cluster: Option<&Entry>) -> Option<String> {
    let doc = kc.doc;
    let exec = user.and_then(|u| u.body).and_then(|b| kc.get(b, "exec"));
    let args: Vec<&str> = exec
        .and_then(|e| kc.get(e, "args"))
        .and_then(|a| doc.items(a))
        .unwrap_or(&[])
        .iter()
        .filter_map(|&n| doc.scalar(n))
        .collect();
    let arg = |flag: &str| {
        args.iter().enumerate().find_map(|(i, a)| {
            a.strip_prefix(&format!("{flag}="))
                .map(str::to_string)
                .or_else(|| {
                    (*a == flag)
                        .then(|| args.get(i + 1).map(|s| s.to_string()))
                        .flatten()
                })
        })
    };
    let env = |key: &str| -> Option<String> {
        let env = exec.and_then(|e| kc.get(e, "env"))?;
        doc.items(env)?.iter().find_map(|&item| {
            (kc.str_of(item, "name")? == key)
                .then(|| kc.str_of(item, "value").map(str::to_string))
                .flatten()
        })
    };
    let from_names = [cluster, user]
        .into_iter()
        .flatten()
        .find_map(|e| e.name.as_deref().and_then(eks_arn));
    let from_args = arg("--cluster-name")
        .or_else(|| arg("-i"))
        .or_else(|| arg("--cluster-id"))
        .map(|c| (c, arg("--region")));
    let (name, region) = match (from_names, from_args) {
        (Some((n, r)), _) => (n, Some(r)),
        (None, Some((n, r))) => (
            n,
            r.or_else(|| env("AWS_REGION"))
                .or_else(|| env("AWS_DEFAULT_REGION")),
        ),
        (None, None) => return None,
    };
    let mut cmd = format!("aws eks update-kubeconfig --name {}", shell_word(&name));
    if let Some(r) = region {
        cmd.push_str(&format!(" --region {}", shell_word(&r)));
    }
    if let Some(p) = env("AWS_PROFILE").or_else(|| arg("--profile")) {
        cmd.push_str(&format!(" --profile {}", shell_word(&p)));
    }
    Some(cmd)
}

fn gke(user: Option<&Entry>, cluster: Option<&Entry>) -> Option<String> {
    [cluster, user].into_iter().flatten().find_map(|e| {
        let rest = e.name.as_deref()?.strip_prefix("gke_")?;
        let parts: Vec<&str> = rest.split('_').collect();
        let [project, location, name] = parts.as_slice() else {
            return None;
        };
        (!project.is_empty() && !location.is_empty() && !name.is_empty()).then(|| {
            format!(
                "gcloud container clusters get-credentials {} --location {} --project {}",
                shell_word(name),
                shell_word(location),
                shell_word(project)
            )
        })
    })
}

fn aks(kc: &Kubeconfig<'_, '_>, user: Option<&Entry>, cluster: Option<&Entry>) -> Option<String> {
    let server = cluster
        .and_then(|c| c.body)
        .and_then(|b| kc.str_of(b, "server"))
        .and_then(crate::credentials::host_port)
        .map(|(h, _)| h);
    let on_azure = server.as_deref().is_some_and(|h| h.ends_with(".azmk8s.io"));
    let ubody = user.and_then(|u| u.body);
    let kubelogin = ubody
        .and_then(|b| kc.get(b, "exec"))
        .and_then(|e| kc.str_of(e, "command"))
        .is_some_and(|c| c.rsplit('/').next() == Some("kubelogin"));
    let azure_provider = ubody
        .and_then(|b| kc.get(b, "auth-provider"))
        .and_then(|a| kc.str_of(a, "name"))
        == Some("azure");
    if !(on_azure || (kubelogin || azure_provider) && server.is_some()) {
        return None;
    }
    let name = cluster
        .and_then(|c| c.name.as_deref())
        .map(shell_word)
        .unwrap_or_else(|| "<CLUSTER>".into());
    Some(format!(
        "az aks get-credentials --resource-group <RESOURCE_GROUP> --name {name} --overwrite-existing"
    ))
}

fn minikube(
    kc: &Kubeconfig<'_, '_>,
    user: Option<&Entry>,
    cluster: Option<&Entry>,
) -> Option<String> {
    let mut paths = Vec::new();
    if let Some(b) = user.and_then(|u| u.body) {
        paths.extend(
            ["client-certificate", "client-key"]
                .iter()
                .filter_map(|k| kc.str_of(b, k)),
        );
    }
    if let Some(b) = cluster.and_then(|c| c.body) {
        paths.extend(kc.str_of(b, "certificate-authority"));
    }
    paths.iter().find_map(|p| {
        let at = p.find(".minikube/")?;
        let rest = &p[at + ".minikube/".len()..];
        let profile = rest
            .strip_prefix("profiles/")
            .and_then(|r| r.split('/').next())
            .filter(|s| !s.is_empty())
            .unwrap_or("minikube");
        Some(format!(
            "minikube update-context -p {}",
            shell_word(profile)
        ))
    })
}

/// The command that regenerates the credentials of `entry` (a user or a cluster), if its
/// shape tells which vendor made it.
pub fn regenerate(kc: &Kubeconfig<'_, '_>, entry: &Entry) -> Option<String> {
    pairs(kc, entry).into_iter().find_map(|(user, cluster)| {
        eks(kc, user, cluster)
            .or_else(|| gke(user, cluster))
            .or_else(|| aks(kc, user, cluster))
            .or_else(|| minikube(kc, user, cluster))
    })
}
