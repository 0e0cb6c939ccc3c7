//! `kubefix probe`: ask each context's API server, and name the exact reason it fails.
//!
//! Read-only: nothing is written. Per context, in parallel, within `--timeout`:
//!
//! 1. **Reach**: resolve and connect, through `proxy-url` or `HTTPS_PROXY`/`NO_PROXY` as
//!    client-go picks them ([`net::choose_proxy`]).
//! 2. **TLS**: verify the server against the cluster's CA (Mozilla's roots when there is
//!    none; `insecure-skip-tls-verify` honoured but flagged), anonymously (`GET /version`).
//!    A failure is explained from what the server presented ([`diagnose::tls`]).
//! 3. **Who am I**: only after step 2 verified, the user's credentials (exec plugins run only
//!    now) go with a `SelfSubjectReview`; 401 and 403 are explained from offline facts
//!    ([`diagnose::unauthorized`]).
//!
//! Credentials never go to a server whose certificate did not verify.

pub mod apply;
pub mod diagnose;
pub mod net;
pub mod target;

pub use target::{leaf, status_message, Creds, Stage};

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde::Serialize;

use crate::cli::{Cli, Output};
use crate::error::ExitCode;
use crate::plugins::{self as plugin, Ran};
use crate::render;
use diagnose::Failure;
use net::{Roots, TlsSetup};
use target::{Target, User};

/// `kubefix probe`'s arguments.
#[derive(Clone, Debug)]
pub struct Args {
    pub context: Option<String>,
    pub all_contexts: bool,
    pub timeout: Duration,
    /// Write [`apply::Remedy`] fixes.
    pub apply: bool,
    /// The kubefix command line the user ran (files, sources), for advice to paste.
    pub command: crate::shell::CommandLine,
}

/// The default per-context deadline.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What advice needs to name the user's files and command.
#[derive(Clone, Debug, Default)]
pub struct Advice {
    /// The kubefix command line the user ran.
    pub command: crate::shell::CommandLine,
    /// `~/.kube/config`: the file kubectl edits without `--kubeconfig`.
    pub default_kubeconfig: Option<PathBuf>,
}

/// Groups shown of an identity (a server may send any number).
pub const MAX_GROUPS: usize = 50;

/// How many contexts are probed at once.
const PARALLEL: usize = 16;

/// Who the server says the user is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub username: String,
    pub groups: Vec<String>,
}

/// The outcome for one context.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextReport {
    pub name: String,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub server: Option<String>,
    /// `ok`, `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// A stable id of the cause (`unknown-authority`, `refused`, `token-expired` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// What kubectl prints for this cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubectl_says: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The proxy used, and where it was configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    pub warnings: Vec<String>,
    /// What `--apply` wrote for this context (not probed again in the same run: the report
    /// is the one from before the write).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<String>,
    pub elapsed_ms: u64,
    #[serde(skip)]
    pub remedy: Option<apply::Remedy>,
}

impl ContextReport {
    /// An `ok` report for a context: what failed, if anything, is filled in later.
    fn named(name: String) -> ContextReport {
        ContextReport {
            name,
            cluster: None,
            user: None,
            server: None,
            status: "ok",
            stage: None,
            code: None,
            cause: None,
            fix: None,
            kubectl_says: None,
            identity: None,
            server_version: None,
            proxy: None,
            warnings: Vec::new(),
            applied: None,
            elapsed_ms: 0,
            remedy: None,
        }
    }

    fn new(t: &Target) -> ContextReport {
        ContextReport {
            cluster: t.cluster_name.clone(),
            user: t.user_name.clone(),
            server: t.cluster.as_ref().and_then(|c| c.server.clone()),
            ..ContextReport::named(t.context.clone())
        }
    }

    /// Tame every string once, before text or JSON: names from the kubeconfig and what the
    /// server said are hostile (controls escaped, URL passwords redacted, bounded), and the
    /// groups list is cut at [`MAX_GROUPS`].
    pub fn tame(&mut self) {
        use crate::sanitize::clean_field;
        self.name = clean_field(&self.name);
        for s in [
            &mut self.cluster,
            &mut self.user,
            &mut self.server,
            &mut self.cause,
            &mut self.fix,
            &mut self.kubectl_says,
            &mut self.server_version,
            &mut self.proxy,
            &mut self.applied,
        ]
        .into_iter()
        .flatten()
        {
            *s = clean_field(s);
        }
        for w in &mut self.warnings {
            *w = clean_field(w);
        }
        if let Some(id) = &mut self.identity {
            id.username = clean_field(&id.username);
            let more = id.groups.len().saturating_sub(MAX_GROUPS);
            id.groups.truncate(MAX_GROUPS);
            for g in &mut id.groups {
                *g = clean_field(g);
            }
            if more > 0 {
                id.groups.push(format!("… {more} more"));
            }
        }
    }

    fn fail(&mut self, f: Failure) {
        self.status = "failed";
        self.stage = Some(f.stage);
        self.code = Some(f.code);
        self.cause = Some(f.cause);
        self.fix = f.fix;
        self.kubectl_says = f.kubectl;
        self.remedy = f.remedy;
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonProbe<'a> {
    schema_version: u32,
    command: &'static str,
    contexts: &'a [ContextReport],
    errors: Vec<String>,
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    contexts: usize,
    ok: usize,
    failed: usize,
}

/// Run `kubefix probe`.
pub fn run(
    cli: &Cli,
    env: &crate::source::Env,
    args: &Args,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let files = match crate::source::select(cli.kubeconfig.as_deref(), env) {
        Ok(f) => f,
        Err(e) => return fatal(cli, out, err, e.to_string()),
    };
    let loaded = match target::load(&files) {
        Ok(l) => l,
        Err(e) => return fatal(cli, out, err, e.to_string()),
    };
    let names: Vec<String> = if args.all_contexts {
        loaded.contexts.clone()
    } else {
        let name = match args.context.clone().or(loaded.current_context.clone()) {
            Some(n) => n,
            None => return fatal(
                cli,
                out,
                err,
                "no current-context is set: name one with --context NAME, or use --all-contexts"
                    .into(),
            ),
        };
        if !loaded.targets.contains_key(&name) {
            return fatal(
                cli,
                out,
                err,
                format!(
                    "context {name:?} is not defined in {}",
                    files
                        .iter()
                        .map(|p| crate::error::display_path(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        vec![name]
    };
    let targets: Vec<Target> = names
        .iter()
        .filter_map(|n| loaded.targets.get(n).cloned())
        .collect();
    let sources = cli.credential_sources();
    let advice = Advice {
        command: args.command.clone(),
        default_kubeconfig: env.home.as_ref().map(|h| h.join(".kube").join("config")),
    };
    let mut reports = probe_all(&targets, args.timeout, &sources, &advice);
    for r in &mut reports {
        r.tame();
    }
    if args.apply {
        if let Err(msg) = apply_remedies(cli, &targets, &mut reports, args) {
            for r in &reports {
                let _ = write!(out, "{}", text(r));
            }
            let _ = writeln!(
                err,
                "kubefix: error: {}",
                crate::sanitize::clean_field(&msg)
            );
            return ExitCode::Error;
        }
    }

    let failed = reports.iter().filter(|r| r.status != "ok").count();
    match cli.output {
        Output::Json => {
            let report = JsonProbe {
                schema_version: render::JSON_SCHEMA_VERSION,
                command: "probe",
                contexts: &reports,
                errors: Vec::new(),
                summary: Summary {
                    contexts: reports.len(),
                    ok: reports.len() - failed,
                    failed,
                },
            };
            render::write_json(out, &report);
        }
        Output::Text => {
            for r in &reports {
                let _ = write!(out, "{}", text(r));
            }
            if cli.verbose {
                let _ = write!(out, "\n{}", table(&reports));
            }
        }
    }
    if failed > 0 {
        ExitCode::NeedsAttention
    } else {
        ExitCode::Ok
    }
}

/// `--apply`: write each failed context's remedy. The context is not probed again in this
/// run: the new name came from the server that failed, so credentials go to it only when the
/// user runs `kubefix probe` again, having seen what was written.
fn apply_remedies(
    cli: &Cli,
    targets: &[Target],
    reports: &mut [ContextReport],
    args: &Args,
) -> Result<(), String> {
    let opts = crate::persist::WriteOptions {
        backup_dir: cli.backup_dir.clone(),
        keep_backups: Some(cli.keep_backups),
        mode: None,
        break_hardlink: cli.break_hardlink,
    };
    let again = probe_again(args);
    let mut done: Vec<(PathBuf, String)> = Vec::new();
    for (t, r) in targets.iter().zip(reports.iter_mut()) {
        let (Some(apply::Remedy::TlsServerName(name)), Some(cluster), Some(cname)) =
            (&r.remedy, &t.cluster, &t.cluster_name)
        else {
            continue;
        };
        let key = (cluster.file.clone(), cname.clone());
        let what = format!(
            "set tls-server-name: {name} on cluster {cname} in {}",
            crate::error::display_path(&cluster.file)
        );
        let what = if !done.contains(&key) {
            let backup = apply::set_tls_server_name(&cluster.file, cname, name, &opts)
                .map_err(|e| e.to_string())?;
            done.push(key);
            format!("{what} (backup {})", crate::error::display_path(&backup))
        } else {
            what
        };
        r.applied = Some(crate::sanitize::clean_field(&format!(
            "{what}; not probed again in this run: check it with `{again}`"
        )));
    }
    Ok(())
}

/// The command that probes the same contexts again, as the user ran it (without `--apply`).
fn probe_again(args: &Args) -> String {
    // `--context=NAME`: a context named `-x` stays the flag's value.
    let context = args.context.as_ref().map(|c| format!("--context={c}"));
    let mut extra = vec!["probe"];
    extra.extend(context.as_deref());
    if args.all_contexts {
        extra.push("--all-contexts");
    }
    args.command.with(&extra)
}

/// kubefix could not probe: say why (and, with `-o json`, a report with the error).
fn fatal(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write, msg: String) -> ExitCode {
    if cli.output == Output::Json {
        let report = JsonProbe {
            schema_version: render::JSON_SCHEMA_VERSION,
            command: "probe",
            contexts: &[],
            errors: vec![msg.clone()],
            summary: Summary {
                contexts: 0,
                ok: 0,
                failed: 0,
            },
        };
        render::write_json(out, &report);
    }
    let _ = writeln!(
        err,
        "kubefix: error: {}",
        crate::sanitize::clean_field(&msg)
    );
    ExitCode::Error
}

/// The text lines of one context.
/// `-v`: every context in one table (the reports are already tamed: escaped and bounded).
pub fn table(reports: &[ContextReport]) -> String {
    let rows: Vec<[String; 7]> = reports
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.status.to_string(),
                r.code.unwrap_or("-").to_string(),
                r.server.clone().unwrap_or_else(|| "-".into()),
                r.identity
                    .as_ref()
                    .map(|i| i.username.clone())
                    .unwrap_or_else(|| "-".into()),
                r.server_version.clone().unwrap_or_else(|| "-".into()),
                format!("{} ms", r.elapsed_ms),
            ]
        })
        .collect();
    let head = [
        "CONTEXT", "STATUS", "CAUSE", "SERVER", "USER", "VERSION", "TIME",
    ];
    let mut width = head.map(str::len);
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$} ", w = width[i]));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(&head);
    for row in &rows {
        out.push_str(&line(&row.each_ref().map(String::as_str)));
    }
    out
}

pub fn text(r: &ContextReport) -> String {
    let mut s = format!("{}: ", crate::sanitize::clean(&r.name));
    if r.status == "ok" {
        s.push_str("ok");
        if let Some(id) = &r.identity {
            s.push_str(&format!(
                " user={} groups={}",
                crate::sanitize::clean(&id.username),
                crate::sanitize::clean(&id.groups.join(","))
            ));
        }
        s.push('\n');
    } else {
        s.push_str(&format!(
            "{} [{}]\n",
            crate::sanitize::clean_field(r.cause.as_deref().unwrap_or("")),
            r.code.unwrap_or("")
        ));
        if let Some(k) = &r.kubectl_says {
            s.push_str(&format!(
                "  kubectl says: {}\n",
                crate::sanitize::clean_field(k)
            ));
        }
        if let Some(f) = &r.fix {
            s.push_str(&format!("  fix: {}\n", crate::sanitize::clean_field(f)));
        }
    }
    if let Some(a) = &r.applied {
        s.push_str(&format!("  applied: {}\n", crate::sanitize::clean_field(a)));
    }
    for w in &r.warnings {
        s.push_str(&format!("  warning: {}\n", crate::sanitize::clean_field(w)));
    }
    s
}

/// Probe every target on up to [`PARALLEL`] threads; reports in the targets' order.
pub fn probe_all(
    targets: &[Target],
    timeout: Duration,
    sources: &crate::credentials::Sources,
    advice: &Advice,
) -> Vec<ContextReport> {
    let next = AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<ContextReport>>> =
        std::sync::Mutex::new(vec![None; targets.len()]);
    let env = |n: &str| std::env::var(n).ok();
    std::thread::scope(|s| {
        for _ in 0..targets.len().min(PARALLEL) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(t) = targets.get(i) else { break };
                let r = probe_one(t, timeout, sources, advice, &env);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Probe one context.
pub fn probe_one(
    t: &Target,
    timeout: Duration,
    sources: &crate::credentials::Sources,
    advice: &Advice,
    env: &dyn Fn(&str) -> Option<String>,
) -> ContextReport {
    let started = Instant::now();
    let mut rep = ContextReport::new(t);
    if let Err(f) = probe_into(
        t,
        started + timeout,
        timeout,
        sources,
        advice,
        env,
        &mut rep,
    ) {
        rep.fail(*f);
    }
    rep.elapsed_ms = started.elapsed().as_millis() as u64;
    rep
}

/// Time left before `deadline` (at least a millisecond, so a call fails by timing out).
fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

fn probe_into(
    t: &Target,
    deadline: Instant,
    timeout: Duration,
    sources: &crate::credentials::Sources,
    advice: &Advice,
    env: &dyn Fn(&str) -> Option<String>,
    rep: &mut ContextReport,
) -> Result<(), Box<Failure>> {
    use diagnose::config;
    let cluster_name = t.cluster_name.as_deref().unwrap_or("");
    let Some(cluster) = &t.cluster else {
        return Err(config(
            "no-cluster",
            match &t.cluster_name {
                Some(c) => format!(
                    "context {} names cluster {c:?}, which is not defined",
                    t.context
                ),
                None => format!("context {} names no cluster", t.context),
            },
            None,
        ));
    };
    // kubectl edits ~/.kube/config unless told otherwise.
    let file =
        Some(cluster.file.as_path()).filter(|f| advice.default_kubeconfig.as_deref() != Some(*f));
    let Some(server) = cluster.server.as_deref().filter(|s| !s.is_empty()) else {
        return Err(config(
            "no-server",
            format!("cluster {cluster_name} has no server"),
            Some(diagnose::set_cluster(
                file,
                cluster_name,
                &["--server=https://HOST:6443"],
            )),
        ));
    };
    let https = server.starts_with("https://");
    if !https && !server.starts_with("http://") {
        return Err(config(
            "bad-server",
            format!("server {server:?} of cluster {cluster_name} is not an https:// URL"),
            None,
        ));
    }
    let Some((host, port)) = crate::credentials::host_port(server) else {
        return Err(config(
            "bad-server",
            format!("server {server:?} of cluster {cluster_name} has no host"),
            None,
        ));
    };
    let base = server.trim_end_matches('/').to_string();
    if !https {
        rep.warnings.push(format!(
            "cluster {cluster_name}'s server is plain http://: credentials travel unencrypted (as kubectl sends them)"
        ));
    }
    let roots = if cluster.insecure {
        rep.warnings.push(format!(
            "cluster {cluster_name} has insecure-skip-tls-verify: true: the server's certificate is not checked, so anyone on the network path can pose as the server and receive your credentials"
        ));
        Roots::Insecure
    } else {
        match &cluster.ca {
            Some(Ok(bytes)) => {
                let certs = target::certs(bytes);
                if certs.is_empty() {
                    return Err(config(
                        "ca-unreadable",
                        format!("the certificate authority of cluster {cluster_name} holds no certificate"),
                        None,
                    ));
                }
                Roots::Cluster(
                    certs
                        .into_iter()
                        .map(|c| CertificateDer::from(c.der))
                        .collect(),
                )
            }
            Some(Err(e)) => {
                return Err(config(
                    "ca-unreadable",
                    format!("cluster {cluster_name}: {e}"),
                    None,
                ))
            }
            None => Roots::Public,
        }
    };
    let name_for_tls = cluster.tls_server_name.clone().unwrap_or(host.clone());
    let server_name = ServerName::try_from(name_for_tls.clone()).map_err(|_| {
        config(
            "bad-server",
            format!("{name_for_tls:?} is not a valid TLS server name"),
            None,
        )
    })?;
    let proxy = net::choose_proxy(cluster.proxy_url.as_deref(), &host, port, env);
    if let Some(p) = &proxy {
        rep.proxy = Some(format!("{} (from {})", p.url, p.from));
        if !(p.url.starts_with("http://") || p.url.starts_with("https://")) {
            return Err(Box::new(Failure {
                stage: Stage::Reach,
                code: "proxy-unsupported",
                cause: format!(
                    "the proxy {} (from {}) is not an HTTP CONNECT proxy; kubefix probe speaks only to http:// proxies",
                    p.url, p.from
                ),
                fix: Some("probe from a host that reaches the server without it, or through an http:// proxy".into()),
                kubectl: None,
                remedy: None,
            }));
        }
    }
    let ctx = diagnose::Ctx {
        context: &t.context,
        cluster: cluster_name,
        server,
        host: &host,
        port,
        dialled_name: &name_for_tls,
        tls_server_name_set: cluster.tls_server_name.is_some(),
        proxy: proxy.as_ref(),
        timeout,
        roots: &roots,
        sources,
        file,
        command: &advice.command,
    };
    let anon = TlsSetup {
        roots: roots.clone(),
        server_name: server_name.clone(),
        client: None,
    };
    let proxy_url = proxy.as_ref().map(|p| p.url.as_str());
    // 1 + 2: reach and TLS, anonymously.
    let (agent, record) =
        net::agent(&anon, proxy_url, left(deadline)).map_err(|e| config("tls-setup", e, None))?;
    let resp = agent.get(format!("{base}/version")).call();
    let mut server_date = None;
    match resp {
        Ok(mut resp) => {
            server_date = date_of(&resp);
            if let Some(skew) = server_date.map(|d| d - crate::inspect::now()) {
                if let Some(w) = diagnose::skew_warning(skew) {
                    rep.warnings.push(w);
                }
            }
            if resp.status().as_u16() == 200 {
                if let Ok(body) = resp
                    .body_mut()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_string()
                {
                    rep.server_version = serde_json::from_str::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v.get("gitVersion")?.as_str().map(str::to_string));
                }
            }
        }
        Err(e) => {
            let rec = record.lock().unwrap_or_else(|e| e.into_inner()).clone();
            // The server's certificate verified, but it wants a client certificate in the
            // handshake (a TLS-terminating proxy in front of the API server may): go on with
            // the user's credentials.
            let verified = !rec.chain.is_empty() && rec.verify_error.is_none();
            let wants_cert = matches!(
                rec.tls_error,
                Some(rustls::Error::AlertReceived(
                    rustls::AlertDescription::CertificateRequired
                        | rustls::AlertDescription::HandshakeFailure
                        | rustls::AlertDescription::BadCertificate
                ))
            );
            if !(verified && wants_cert) {
                return Err(diagnose::connect_failure(&ctx, &e, &rec, &|| {
                    peek_date(&anon, proxy_url, &base, deadline)
                }));
            }
        }
    }

    // 3: who am I, with the user's credentials.
    let Some(user) = &t.user else {
        return Err(config(
            "no-user",
            match &t.user_name {
                Some(u) => format!(
                    "context {} names user {u:?}, which is not defined",
                    t.context
                ),
                None => format!(
                    "context {} names no user: kubectl would ask for a user name",
                    t.context
                ),
            },
            None,
        ));
    };
    let creds = credentials(t, user, deadline, &advice.command)?;
    let client = match &creds.cert {
        Some(c) => Some(client_tls(c).map_err(|e| {
            config(
                "credential-unreadable",
                format!("user {}: {e}", t.user_name.as_deref().unwrap_or("")),
                None,
            )
        })?),
        None => None,
    };
    let setup = TlsSetup {
        roots: roots.clone(),
        server_name,
        client,
    };
    let (agent, record) = net::agent(&setup, proxy_url, left(deadline))
        .map_err(|e| config("credential-unreadable", e, None))?;
    let mut last = None;
    for version in ["v1", "v1beta1"] {
        // One deadline for the context: the v1beta1 fallback gets the time v1 left, not a
        // fresh timeout.
        let mut req = agent
            .post(format!(
                "{base}/apis/authentication.k8s.io/{version}/selfsubjectreviews"
            ))
            .config()
            .timeout_global(Some(left(deadline)))
            .build()
            .header("Content-Type", "application/json");
        if let Some((token, _)) = &creds.token {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        let body = serde_json::json!({
            "apiVersion": format!("authentication.k8s.io/{version}"),
            "kind": "SelfSubjectReview",
        })
        .to_string();
        match req.send(body) {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let text = r
                    .body_mut()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_string()
                    .unwrap_or_default();
                if status == 404 {
                    last = Some((status, text));
                    continue;
                }
                last = Some((status, text));
                break;
            }
            Err(e) => {
                let rec = record.lock().unwrap_or_else(|e| e.into_inner()).clone();
                return Err(diagnose::auth_transport_failure(&ctx, &e, &rec, &creds));
            }
        }
    }
    let (status, body) = last.unwrap_or((0, String::new()));
    match status {
        200 | 201 => {
            rep.identity = Some(identity_of(&body).unwrap_or_default());
            Ok(())
        }
        404 => {
            rep.warnings.push(
                "the server has no SelfSubjectReview API (Kubernetes 1.27 and later have it): the credentials were accepted, but the server does not say whose they are".into(),
            );
            Ok(())
        }
        401 => Err(diagnose::unauthorized(&ctx, &creds, server_date)),
        403 => Err(diagnose::forbidden(&ctx, &body)),
        _ => Err(Box::new(Failure {
            stage: Stage::Auth,
            code: "server-error",
            cause: format!(
                "the server answered the SelfSubjectReview with HTTP {status}: {}",
                status_message(&body).unwrap_or_default()
            ),
            fix: None,
            kubectl: None,
            remedy: None,
        })),
    }
}

fn identity_of(body: &str) -> Option<Identity> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let u = v.get("status")?.get("userInfo")?;
    Some(Identity {
        username: u.get("username")?.as_str()?.to_string(),
        groups: u
            .get("groups")
            .and_then(|g| g.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|g| g.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn date_of(resp: &ureq::http::Response<ureq::Body>) -> Option<i64> {
    let d = resp.headers().get("date")?.to_str().ok()?;
    let t = httpdate::parse_http_date(d).ok()?;
    Some(
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    )
}

/// The server's `Date`, asked without checking its certificate and without credentials: only
/// to tell a wrong clock from an expired certificate.
fn peek_date(anon: &TlsSetup, proxy: Option<&str>, base: &str, deadline: Instant) -> Option<i64> {
    let setup = TlsSetup {
        roots: Roots::Insecure,
        client: None,
        ..anon.clone()
    };
    let (agent, _) = net::agent(&setup, proxy, left(deadline)).ok()?;
    let resp = agent.get(format!("{base}/version")).call().ok()?;
    date_of(&resp)
}

fn client_tls(
    (cert, key, _): &(Vec<u8>, Vec<u8>, String),
) -> Result<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>), String> {
    let chain: Vec<CertificateDer<'static>> = crate::inspect::cert::parse_bundle(cert)
        .map_err(|e| format!("the client certificate is {e}"))?
        .into_iter()
        .map(|c| CertificateDer::from(c.der))
        .collect();
    let key = if key.windows(11).any(|w| w == b"-----BEGIN ") {
        use rustls::pki_types::pem::PemObject;
        PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| format!("the client key is not a usable private key ({e})"))?
    } else {
        PrivateKeyDer::try_from(key.clone())
            .map_err(|e| format!("the client key is not a usable private key ({e})"))?
    };
    Ok((chain, Arc::new(key)))
}

/// The user's credentials as kubectl would send them; exec plugins run here.
fn credentials(
    t: &Target,
    user: &User,
    deadline: Instant,
    command: &crate::shell::CommandLine,
) -> Result<Creds, Box<Failure>> {
    use diagnose::config;
    let name = t.user_name.clone().unwrap_or_default();
    let mut creds = Creds {
        user: name.clone(),
        ..Creds::default()
    };
    match &user.client_cert {
        Some(Ok(c)) => creds.cert = Some((c.cert_pem.clone(), c.key_pem.clone(), c.origin.clone())),
        Some(Err(e)) => {
            return Err(config(
                "credential-unreadable",
                format!("user {name}: {e}"),
                None,
            ))
        }
        None => {}
    }
    match &user.token {
        Some(Ok(t)) => creds.token = Some(t.clone()),
        Some(Err(e)) => {
            return Err(config(
                "credential-unreadable",
                format!("user {name}: {e}"),
                None,
            ))
        }
        None => {}
    }
    if let Some(p) = &user.auth_provider {
        return Err(config(
            "auth-provider",
            format!("user {name} uses the {p} auth-provider, which kubefix probe does not run"),
            Some(format!(
                "run `{}` to convert it to an exec plugin, then probe again",
                command.with(&["--apply"])
            )),
        ));
    }
    if creds.cert.is_none() && creds.token.is_none() && user.basic_auth && user.exec.is_none() {
        return Err(Box::new(Failure {
            stage: Stage::Auth,
            code: "basic-auth",
            cause: format!("user {name} has only a username and password: basic authentication was removed in Kubernetes 1.19"),
            fix: Some("use a client certificate, a token or an exec plugin from your cluster's provider".into()),
            kubectl: Some(diagnose::UNAUTHORIZED.into()),
            remedy: None,
        }));
    }
    if let Some(exec) = &user.exec {
        let exec_failure = |code: &'static str, cause: String, fix: Option<String>| {
            Box::new(Failure {
                stage: Stage::Auth,
                code,
                cause,
                fix,
                kubectl: None,
                remedy: None,
            })
        };
        let Some(program) = plugin::resolve_command(&exec.command, &user.file) else {
            return Err(exec_failure(
                "exec-not-found",
                format!("the exec plugin {:?} of user {name} is not installed (not found on PATH or next to the kubeconfig)", exec.command),
                Some("install it (kubefix without `probe` shows its installHint)".into()),
            ));
        };
        let owner = plugin::run_identity(&user.file, Some(&program));
        let mut spec = serde_json::Map::new();
        if exec.provide_cluster_info {
            if let Some(c) = &t.cluster {
                spec.insert("cluster".into(), c.exec_info_cluster.clone().into());
            }
        }
        spec.insert("interactive".into(), false.into());
        let probe = plugin::Probe {
            program: program.clone(),
            args: exec.args.clone(),
            env: exec.env.clone(),
            exec_info: serde_json::json!({"kind": "ExecCredential", "apiVersion": exec.api_version, "spec": spec}).to_string(),
        };
        let limit = left(deadline).min(plugin::PROBE_TIMEOUT);
        let shown = PathBuf::from(&exec.command);
        match plugin::probe(&probe, owner.as_ref(), limit) {
            Ran::Exited { code: Some(0), stdout, .. } => {
                let v: Option<serde_json::Value> = serde_json::from_str(&stdout).ok();
                let status = v.as_ref().and_then(|v| v.get("status"));
                let s = |k: &str| status.and_then(|s| s.get(k)).and_then(|x| x.as_str()).map(str::to_string);
                if let Some(tok) = s("token").filter(|t| !t.is_empty()) {
                    creds.token = Some((tok, format!("exec plugin {}", shown.display())));
                } else if let (Some(c), Some(k)) = (s("clientCertificateData"), s("clientKeyData")) {
                    creds.cert = Some((c.into_bytes(), k.into_bytes(), format!("exec plugin {}", shown.display())));
                } else {
                    return Err(exec_failure(
                        "exec-bad-output",
                        format!("the exec plugin {} of user {name} printed no ExecCredential with a token or client certificate", shown.display()),
                        Some(format!("run `{}` for the API version it answers in", command.with(if command.args.iter().any(|(f, _)| f == "--probe-exec") { &[] } else { &["--probe-exec"] }))),
                    ));
                }
            }
            Ran::Exited { code, .. } => {
                return Err(exec_failure(
                    "exec-failed",
                    format!(
                        "the exec plugin {} of user {name} failed (exit status {}); its output is not shown here",
                        shown.display(),
                        code.map(|c| c.to_string()).unwrap_or_else(|| "killed".into())
                    ),
                    Some("run it by hand to see why (a login that expired, a missing profile or tool)".into()),
                ))
            }
            Ran::TimedOut => {
                return Err(exec_failure(
                    "exec-timeout",
                    format!("the exec plugin {} of user {name} did not finish within {}", shown.display(), humantime::format_duration(limit)),
                    Some("run it by hand: it may wait for a browser login or a prompt".into()),
                ))
            }
            Ran::NotStarted(e) => {
                return Err(exec_failure(
                    "exec-failed",
                    format!("the exec plugin {} of user {name} could not be started: {e}", shown.display()),
                    None,
                ))
            }
        }
    }
    Ok(creds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> ContextReport {
        ContextReport::named("c".into())
    }

    #[test]
    fn what_the_server_says_is_bounded_and_escaped_before_text_and_json() {
        let mut r = report();
        r.identity = Some(Identity {
            username: format!("\x1b]0;x\x07{}", " a".repeat(400_000)),
            groups: (0..200).map(|i| format!("g{i}")).collect(),
        });
        r.server_version = Some(format!("v1\x1b[2J{}", "9".repeat(100_000)));
        r.cause = Some(format!("HTTP 500: {}", "msg ".repeat(200_000)));
        r.tame();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.len() < 20_000, "{} bytes", json.len());
        assert!(!json.contains('\u{1b}'));
        let t = text(&r);
        assert!(t.len() < 20_000, "{} bytes", t.len());
        let id = r.identity.unwrap();
        assert_eq!(id.groups.len(), MAX_GROUPS + 1);
        assert_eq!(id.groups[MAX_GROUPS], "… 150 more");
    }
}
