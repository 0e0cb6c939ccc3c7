//! `credential-data`: inline certificates and keys client-go cannot load.
//!
//! What the user saw (verified with kubectl 1.32):
//! - `error loading config file "PATH": illegal base64 data at input byte N` — a space, tab,
//!   `*`, URL-safe `-`/`_`, missing or stray padding in `certificate-authority-data`,
//!   `client-certificate-data` or `client-key-data` (Go skips `\r` and `\n` only; N is
//!   counted as Go counts it). This one breaks the whole file, every context.
//! - `unable to load root certificates: unable to parse bytes as PEM block` (CA data that is
//!   not PEM, often base64 applied twice), `… no valid certificate authority data seen`.
//! - `tls: failed to find any PEM data in certificate input` (and the other
//!   `tls.X509KeyPair` messages), `tls: private key does not match public key`.
//!
//! Detection: Go's decoders re-done in `support_data`. Messages give byte offsets and PEM
//! block types only, never the data. Report only.

use base64::Engine as _;

use super::support::data::{ca_pool_error, go_base64, key_pair_error, pem_blocks};
use super::support::view::key_line;
use super::support::{Context, Finding, Rule, Severity};
use crate::kubeconfig::Entry;
use crate::source::Kind;

rule!(CredentialDataRule, "credential-data", reports, "certificate-authority-data, client-certificate-data and client-key-data that are not valid base64, not PEM, or a key that does not match its certificate");

rule!(
/// The PEM half (`unable to load root certificates`, `tls: …`): data that decodes but that
/// client-go cannot use.
CredentialPemRule as PEM_ID, "credential-pem", reports, "certificate-authority-data and client certificates that are not PEM, or a key that does not match its certificate");

/// Whether `bytes` is itself base64 of something with a PEM block (base64 applied twice).
fn encoded_twice(bytes: &[u8]) -> bool {
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .is_ok_and(|inner| !pem_blocks(&inner).is_empty())
}

impl Rule for CredentialDataRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        check(cx, false, out)
    }
}

impl Rule for CredentialPemRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        check(cx, true, out)
    }
}

/// Base64 findings (`pem: false`) or PEM findings of data that decodes (`pem: true`).
fn check(cx: &Context<'_, '_, '_>, pem: bool, out: &mut Vec<Finding>) {
    {
        let kc = cx.config;
        // The decoded value of `key`, or a finding for invalid base64.
        let decode = |entry: &Entry, key: &str, out: &mut Vec<Finding>| -> Option<Vec<u8>> {
            let body = entry.body?;
            let value = kc.str_of(body, key).filter(|v| !v.is_empty())?;
            match go_base64(value.as_bytes()) {
                Ok(bytes) => Some(bytes),
                Err(_) if pem => None,
                Err(at) => {
                    out.push(
                        Finding::new(
                            ID,
                            Severity::Error,
                            key_line(kc, body, key),
                            format!("{key} is not valid base64 at byte {at} of {}; kubectl cannot load this file at all", value.len()),
                        )
                        .entry(entry)
                        .code("bad-base64")
                        .kubectl_says(format!(
                            "error loading config file {:?}: illegal base64 data at input byte {at}",
                            cx.path.display().to_string()
                        ))
                        .hint("re-encode the PEM file with `base64 -w0 FILE` and paste it as one line (line breaks are fine; spaces, tabs and URL-safe characters are not)"),
                    );
                    None
                }
            }
        };
        let mut found = Vec::new();
        if !pem {
            for cluster in &kc.clusters {
                decode(cluster, "certificate-authority-data", &mut found);
            }
            for user in &kc.users {
                decode(user, "client-certificate-data", &mut found);
                decode(user, "client-key-data", &mut found);
            }
            out.extend(found);
            return;
        }
        for cluster in &kc.clusters {
            let Some(ca) = load(
                cx,
                cluster,
                "certificate-authority-data",
                "certificate-authority",
                Kind::Certificate,
            ) else {
                continue;
            };
            let Some(e) = ca_pool_error(&ca.bytes) else {
                // client-go loads the bundle; a block kubefix cannot read (no expiry shown
                // for it) is still worth a word.
                if let Err(why) = crate::inspect::cert::parse_bundle(&ca.bytes) {
                    if !ca.bytes.is_empty() {
                        found.push(unreadable(cluster, &ca, &why, "client-go skips what it cannot parse and uses the other certificates of the bundle"));
                    }
                }
                continue;
            };
            let twice = encoded_twice(&ca.bytes);
            let what = ca.what();
            found.push(
                Finding::new(
                    PEM_ID,
                    Severity::Error,
                    ca.line,
                    if twice {
                        format!("{what} is base64 of base64: decoded once it is still base64 ({} bytes), not a PEM certificate", ca.bytes.len())
                    } else {
                        format!("{what} holds {} bytes but no usable PEM certificate", ca.bytes.len())
                    },
                )
                .entry(cluster)
                .code("bad-ca")
                .kubectl_says(format!("unable to load root certificates: {e}"))
                .hint(if twice {
                    "decode the value once (`base64 -d`) and put that in its place"
                } else {
                    "put the cluster's CA certificate there: base64 of the PEM file (-----BEGIN CERTIFICATE-----)"
                }),
            );
        }
        for user in &kc.users {
            let cert = load(
                cx,
                user,
                "client-certificate-data",
                "client-certificate",
                Kind::Certificate,
            );
            let key = load(cx, user, "client-key-data", "client-key", Kind::Key);
            let Some(cert) = cert else { continue };
            let Some(key) = key else {
                // No key: auth-methods reports that; kubefix still says when it cannot read
                // the certificate.
                if let Err(why) = crate::inspect::cert::parse_bundle(&cert.bytes) {
                    found.push(unreadable(
                        user,
                        &cert,
                        &why,
                        "kubectl will refuse it too once the key is there",
                    ));
                }
                continue;
            };
            let Some(e) = key_pair_error(&cert.bytes, &key.bytes) else {
                continue;
            };
            let (at, what, hint) = if e.contains("certificate input") {
                (&cert, format!("{} holds no usable PEM certificate", cert.what()), "put the client certificate there: base64 of the PEM file (-----BEGIN CERTIFICATE-----)")
            } else if e.starts_with("x509:") {
                (&cert, format!("{} holds a certificate that does not parse (malformed X.509)", cert.what()), "put the client certificate there: base64 of the PEM file (-----BEGIN CERTIFICATE-----); this one is damaged")
            } else if e.contains("does not match public key") {
                (&key, format!("{} is not the private key of {}", key.what(), cert.what()), "put the key that belongs to this certificate (or the certificate that belongs to this key); they were probably copied from different kubeconfigs")
            } else {
                (&key, format!("{} holds no usable PEM private key", key.what()), "put the private key there: base64 of the PEM file (-----BEGIN … PRIVATE KEY-----)")
            };
            // Inline data is loaded with the kubeconfig; files are read when kubectl connects
            // (client-go reloads them for each handshake), so the same error comes then
            // (verified with kubectl 1.32 against a TLS server).
            let said = if cert.file || key.file {
                format!("Unable to connect to the server: {e}")
            } else {
                e
            };
            found.push(
                Finding::new(PEM_ID, Severity::Error, at.line, what)
                    .entry(user)
                    .code("bad-client-cert")
                    .kubectl_says(said)
                    .hint(hint),
            );
        }
        out.extend(found);
    }
}

/// A credential's bytes as client-go reads them: the inline `*-data` value decoded as Go
/// decodes it (invalid base64 is `credential-data`'s), else the file the path key names
/// (one that cannot be read is `missing-file`'s). The data wins when both are set, as in
/// client-go.
struct Loaded {
    /// `certificate-authority-data`, or `certificate-authority file PATH`.
    source: String,
    line: usize,
    bytes: Vec<u8>,
    /// Read from a file (not inline data).
    file: bool,
}

impl Loaded {
    fn what(&self) -> &str {
        &self.source
    }
}

fn load(
    cx: &Context<'_, '_, '_>,
    entry: &Entry,
    data_key: &str,
    file_key: &str,
    kind: Kind,
) -> Option<Loaded> {
    let kc = cx.config;
    let body = entry.body?;
    if let Some(value) = kc.str_of(body, data_key).filter(|v| !v.is_empty()) {
        return go_base64(value.as_bytes()).ok().map(|bytes| Loaded {
            source: data_key.to_string(),
            line: key_line(kc, body, data_key),
            bytes,
            file: false,
        });
    }
    let value = kc.str_of(body, file_key).filter(|v| !v.is_empty())?;
    let path = super::missing_file::resolve(value, cx.path);
    let bytes = crate::source::read_regular(&path, kind).ok()?;
    Some(Loaded {
        source: format!("the {file_key} file {}", path.display()),
        line: key_line(kc, body, file_key),
        bytes,
        file: true,
    })
}

/// A warning for a certificate kubefix cannot read though client-go does not refuse it (yet).
fn unreadable(entry: &Entry, loaded: &Loaded, why: &str, note: &str) -> Finding {
    Finding::new(
        PEM_ID,
        Severity::Warning,
        loaded.line,
        format!(
            "{} holds a certificate kubefix cannot read ({why}); its expiry is unknown",
            loaded.what()
        ),
    )
    .entry(entry)
    .code("unreadable")
    .hint(format!(
        "{note}; replace the damaged certificate, or remove it (base64 of the PEM file, -----BEGIN CERTIFICATE-----)"
    ))
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, rule_findings};
    use super::super::support::RuleOptions;
    use super::*;

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    // A self-signed P-256 certificate and its key (PKCS#8 with the public key), and a
    // second key, made once with openssl for this test; none of them guards anything.
    const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBejCCAR+gAwIBAgIUcL6wbtD7gSv9lpxGgXqXPEvxpTMwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHa3ViZWZpeDAeFw0yNjEyMDEwMzIyMDBaFw0zNjExMjgwMzIy
MDBaMBIxEDAOBgNVBAMMB2t1YmVmaXgwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AATZBMd+GQ4KRmxoOscTrNd48c89+P7/0vduLg/Egjb5tQ2X+mhbIC/ilOK2PaGW
orZ/YqXjsoD9Nj7sFWSNdE0Io1MwUTAdBgNVHQ4EFgQUFgjipVJk62xW+QQMaJUq
cniKvFkwHwYDVR0jBBgwFoAUFgjipVJk62xW+QQMaJUqcniKvFkwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA524+SbcgoU2JMBxfW2LIpwvJEo+k
gnxQROtCKufePyQCIQCyx/WXBg2VuyiFtOp4FaGRqxlnM8t91nFPItQ1NpnHGQ==
-----END CERTIFICATE-----
";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFmhwWvAqRI2dIHct
ph9C0DxU3oVsaCd66viWXDVTYIOhRANCAATZBMd+GQ4KRmxoOscTrNd48c89+P7/
0vduLg/Egjb5tQ2X+mhbIC/ilOK2PaGWorZ/YqXjsoD9Nj7sFWSNdE0I
-----END PRIVATE KEY-----
";
    const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNeL/9A0jGTpJbre1
eelbUz7NrLLfpq0tFLrIFRQMr0KhRANCAAR3FJYYrXAcB7uSL9f1G6NTN4dnok7+
MGpHVyZJX1j3p1ExFlIDsse2a7yLqwvYkbW7DO9Lnq99307Cf8Kdr0fG
-----END PRIVATE KEY-----
";

    #[test]
    fn key_pair_matching() {
        assert_eq!(key_pair_error(CERT.as_bytes(), KEY.as_bytes()), None);
        assert_eq!(
            key_pair_error(CERT.as_bytes(), OTHER_KEY.as_bytes()).as_deref(),
            Some("tls: private key does not match public key")
        );
        assert_eq!(ca_pool_error(CERT.as_bytes()), None);
    }

    #[test]
    fn reports_offsets_pem_and_mismatch_without_data() {
        let ca = b64(CERT.as_bytes());
        let src = format!(
            "apiVersion: v1
kind: Config
clusters:
- name: spaced
  cluster: {{server: 'https://h', certificate-authority-data: '{} {}'}}
- name: twice
  cluster: {{server: 'https://h', certificate-authority-data: {}}}
- name: good
  cluster: {{server: 'https://h', certificate-authority-data: \"{}\\r\\n{}\"}}
users:
- name: mismatch
  user:
    client-certificate-data: {ca}
    client-key-data: {}
- name: notpem
  user:
    client-certificate-data: aGVsbG8=
    client-key-data: {}
- name: good
  user: {{client-certificate-data: {ca}, client-key-data: {}}}
",
            &ca[..10],
            &ca[10..],
            b64(ca.as_bytes()),
            &ca[..10],
            &ca[10..],
            b64(OTHER_KEY.as_bytes()),
            b64(KEY.as_bytes()),
            b64(KEY.as_bytes()),
        );
        let mut f: Vec<_> = findings(&src, &RuleOptions::default())
            .into_iter()
            .filter(|f| f.rule == ID || f.rule == PEM_ID)
            .collect();
        assert_eq!(f.iter().filter(|f| f.rule == ID).count(), 1, "base64 only");
        // The PEM half alone says the same as in the registry.
        assert_eq!(
            rule_findings(&CredentialPemRule, &src, &RuleOptions::default()).len(),
            3
        );
        f.sort_by_key(|f| f.line);
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.line, f.kubectl_error.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (5, "error loading config file \"/nonexistent-kubefix-test/config\": illegal base64 data at input byte 10".to_string()),
                (7, "unable to load root certificates: unable to parse bytes as PEM block".to_string()),
                (14, "tls: private key does not match public key".to_string()),
                (17, "tls: failed to find any PEM data in certificate input".to_string()),
            ]
        );
        assert!(f[1]
            .hint
            .as_deref()
            .unwrap()
            .contains("decode the value once"));
        for f in &f {
            assert!(!f.message.contains(&ca[..10]) && !f.message.contains("aGVsbG8"));
        }
    }
}
