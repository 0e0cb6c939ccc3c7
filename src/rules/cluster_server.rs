//! `cluster-server`: a cluster whose `server` or `proxy-url` client-go cannot use.
//!
//! What the user saw (verified with kubectl 1.32):
//! - no `server`: nothing at load time; kubectl talks to
//!   `The connection to the server localhost:8080 was refused - did you specify the right host or port?` (a warning here)
//! - a malformed server: `host must be a URL or a host:port pair: "https://[::1"` (client-go's
//!   `DefaultServerURL`: a server that does not parse as a URL with scheme and host is tried
//!   again with `https://` in front — `http://` without a CA and without
//!   `insecure-skip-tls-verify` — and must then have no path), or Go's own `parse "…": …`
//! - a scheme other than http/https: `unsupported protocol scheme "ftp"`
//! - `proxy-url`: `invalid 'proxy-url' "URL" for cluster "NAME": unsupported scheme "socks5h", must be http, https, or socks5`,
//!   or `… could not parse: URL`.
//!
//! Fix: `proxy-url: socks5h://…` becomes `socks5://…` (the rest of the URL unchanged, and
//! checked to pass the same validation). `socks5h` means "let the proxy resolve the name";
//! client-go's `socks5` already does that: the SPDY round tripper
//! (`k8s.io/apimachinery/pkg/util/httpstream/spdy/roundtripper.go`, `dialWithSocks5Proxy`)
//! and net/http's bundled SOCKS client hand the target's `host:port` to
//! `golang.org/x/net/proxy.SOCKS5`, whose `internal/socks` client sends a name that is not an
//! IP literal as address type FQDN (`b = append(b, AddrTypeFQDN)` in `client.go`), so the
//! proxy resolves it. The server address itself is the user's to give: report only.

use super::support::data::go_url_parse;
use super::support::view::{has, is_true};
use super::support::view::{key_line, set_value};
use super::support::{Context, Finding, Rule, Severity};

rule!(ClusterServerRule, "cluster-server", fixes, "clusters without server (kubectl falls back to localhost:8080), with a server kubectl cannot parse, or an unsupported proxy-url (fixes socks5h:// to socks5://)");

/// What kubectl says about `server`, or `None` when it takes it.
pub fn server_error(server: &str, default_tls: bool) -> Option<String> {
    let scheme = match go_url_parse(server) {
        Ok(u) if !u.scheme.is_empty() && !u.host.is_empty() => u.scheme,
        _ => {
            let with = format!(
                "{}{server}",
                if default_tls { "https://" } else { "http://" }
            );
            match go_url_parse(&with) {
                Err(e) => return Some(format!("parse {with:?}: {e}")),
                Ok(u) if !u.path.is_empty() && u.path != "/" => {
                    return Some(format!(
                        "host must be a URL or a host:port pair: {server:?}"
                    ))
                }
                Ok(u) => u.scheme,
            }
        }
    };
    (scheme != "http" && scheme != "https")
        .then(|| format!("unsupported protocol scheme {scheme:?}"))
}

/// What kubectl says about `proxy-url` (without the `invalid 'proxy-url' …` prefix).
pub fn proxy_error(proxy: &str) -> Option<String> {
    match go_url_parse(proxy) {
        Err(_) => Some(format!("could not parse: {proxy}")),
        Ok(u) if matches!(u.scheme.as_str(), "http" | "https" | "socks5") => None,
        Ok(u) => Some(format!(
            "unsupported scheme {:?}, must be http, https, or socks5",
            u.scheme
        )),
    }
}

/// `socks5h://REST` as `socks5://REST`, when that is a proxy-url client-go takes.
fn socks5_for_socks5h(proxy: &str) -> Option<String> {
    let scheme = proxy.get(..8)?;
    if !scheme.eq_ignore_ascii_case("socks5h:") {
        return None;
    }
    let socks5 = format!("socks5:{}", &proxy[8..]);
    proxy_error(&socks5).is_none().then_some(socks5)
}

impl Rule for ClusterServerRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        for cluster in &kc.clusters {
            let Some(body) = cluster.body else { continue };
            let name = cluster.name.as_deref().unwrap_or("");
            match kc.str_of(body, "server").filter(|s| !s.is_empty()) {
                None => out.push(
                    Finding::new(
                        ID,
                        Severity::Warning,
                        kc.line(kc.doc.get_key(body, "server").unwrap_or(cluster.item)),
                        "no server: kubectl falls back to http://localhost:8080".into(),
                    )
                    .entry(cluster)
                    .code("no-server")
                    .kubectl_says("The connection to the server localhost:8080 was refused - did you specify the right host or port?")
                    .hint("add server: https://HOST:PORT (the API server's address)"),
                ),
                Some(server) => {
                    let tls = has(kc, body, "certificate-authority-data")
                        || has(kc, body, "certificate-authority")
                        || kc
                            .get(body, "insecure-skip-tls-verify")
                            .is_some_and(|n| is_true(kc, n));
                    if let Some(said) = server_error(server, tls) {
                        out.push(
                            Finding::new(
                                ID,
                                Severity::Error,
                                key_line(kc, body, "server"),
                                "kubectl cannot use this server address".into(),
                            )
                            .entry(cluster)
                            .code("bad-server")
                            .kubectl_says(said)
                            .hint("write server as https://HOST:PORT (IPv6 in brackets: https://[::1]:6443), optionally with a path"),
                        );
                    }
                }
            }
            if let Some(proxy) = kc.str_of(body, "proxy-url").filter(|p| !p.is_empty()) {
                if let Some(e) = proxy_error(proxy) {
                    let f = Finding::new(
                        ID,
                        Severity::Error,
                        key_line(kc, body, "proxy-url"),
                        "kubectl cannot use this proxy-url".into(),
                    )
                    .entry(cluster)
                    .code("bad-proxy-url")
                    .kubectl_says(format!(
                        "invalid 'proxy-url' {proxy:?} for cluster {name:?}: {e}"
                    ));
                    out.push(match socks5_for_socks5h(proxy) {
                        Some(socks5) => f.fix_or_hint(
                            "use socks5:// (client-go's socks5 already lets the proxy resolve names)",
                            set_value(kc, body, "proxy-url", &socks5).map(|c| vec![c]),
                            "change socks5h:// to socks5://",
                        ),
                        None => f.hint("write proxy-url as http://, https:// or socks5://HOST:PORT (socks5h is not supported; socks5 resolves names through the proxy too)"),
                    });
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

    #[test]
    fn server_and_proxy_as_client_go_reads_them() {
        assert_eq!(server_error("https://127.0.0.1:6443", true), None);
        assert_eq!(server_error("https://h/k8s/clusters/c-1", true), None);
        assert_eq!(server_error("127.0.0.1:6443", true), None);
        assert_eq!(server_error("localhost", false), None);
        assert_eq!(
            server_error("https://[::1", true).as_deref(),
            Some("host must be a URL or a host:port pair: \"https://[::1\"")
        );
        assert_eq!(
            server_error("ftp://h:1", true).as_deref(),
            Some("unsupported protocol scheme \"ftp\"")
        );
        assert_eq!(proxy_error("socks5://p:1"), None);
        assert_eq!(proxy_error("http://p:1"), None);
        assert_eq!(
            proxy_error("socks5h://p:1").as_deref(),
            Some("unsupported scheme \"socks5h\", must be http, https, or socks5")
        );
        assert_eq!(
            proxy_error("127.0.0.1:1").as_deref(),
            Some("could not parse: 127.0.0.1:1")
        );
    }

    #[test]
    fn socks5h_becomes_socks5_in_the_files_style() {
        use super::super::support::testutil::fixed;
        assert_eq!(
            socks5_for_socks5h("socks5h://u:p@proxy.corp:1080").as_deref(),
            Some("socks5://u:p@proxy.corp:1080")
        );
        assert_eq!(socks5_for_socks5h("socks5://p:1"), None);
        assert_eq!(socks5_for_socks5h("socks5h://[::1"), None);
        let src = "apiVersion: v1
kind: Config
clusters:
- name: a
  cluster:
    server: https://h:6443
    proxy-url: 'socks5h://127.0.0.1:1080' # via bastion
- name: b
  cluster: {server: 'https://h:6443', proxy-url: \"SOCKS5H://p:1\"}
";
        assert_eq!(
            fixed(src, &RuleOptions::default()),
            src.replace("'socks5h:", "'socks5:")
                .replace("\"SOCKS5H:", "\"socks5:")
        );
    }

    #[test]
    fn reports_lines_and_kubectls_words() {
        let src = "apiVersion: v1
kind: Config
clusters:
- name: nothing
  cluster:
    certificate-authority-data: LS0t
- name: v6
  cluster:
    server: https://[::1
    proxy-url: socks5h://127.0.0.1:1080
- name: ok
  cluster: {server: 'https://[::1]:6443', proxy-url: 'http://p:3128'}
";
        let f: Vec<_> = findings(src, &RuleOptions::default())
            .into_iter()
            .filter(|f| f.rule == ID)
            .collect();
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.severity, f.line, f.kubectl_error.as_deref().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Severity::Warning, 4, "The connection to the server localhost:8080 was refused - did you specify the right host or port?"),
                (Severity::Error, 9, "host must be a URL or a host:port pair: \"https://[::1\""),
                (Severity::Error, 10, "invalid 'proxy-url' \"socks5h://127.0.0.1:1080\" for cluster \"v6\": unsupported scheme \"socks5h\", must be http, https, or socks5"),
            ]
        );
    }
}
