//! Generate a large, realistic merged kubeconfig for benchmarks.
//!
//! `cargo run --release --example gen_kubeconfig -- CONTEXTS OUT.yaml [--expired-tokens]`
//!
//! Each context has its own cluster (inline CA, ~1.1 KiB of base64) and user; even users use
//! an EKS-style exec plugin on v1alpha1 (the thing kubefix fixes), odd users carry inline
//! client certificate and key data (~1.5 KiB each). With `--expired-tokens`, every other odd
//! user carries a service-account token that expired in 2023 instead, which
//! `credential-expiry` reports with a regenerate hint (that path looks entries up by name per
//! credential). Comments are sprinkled in. The output is deterministic for given arguments.

use std::fmt::Write as _;
use std::io::Write as _;

use base64::Engine as _;

/// A JWT shaped like a bound service-account token, expired on 2023-11-14.
fn expired_token(i: usize) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","kid":"bench"}"#),
        b64(&format!(
            r#"{{"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:team-{}:deployer-{i}","exp":1700000000}}"#,
            i % 37
        )),
        pseudo_base64(i + 3_000_000, 342).replace(['+', '/'], "_")
    )
}

fn pseudo_base64(seed: usize, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = seed as u64 ^ 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % 64) as usize] as char
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .expect("usage: gen_kubeconfig CONTEXTS OUT.yaml");
    let out = args
        .next()
        .expect("usage: gen_kubeconfig CONTEXTS OUT.yaml [--expired-tokens]");
    let tokens = args.next().as_deref() == Some("--expired-tokens");
    let mut s = String::with_capacity(n * 2700);
    s.push_str("# merged by a platform team's generator\napiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n");
    for i in 0..n {
        if i % 100 == 0 {
            let _ = writeln!(s, "# --- region block {} ---", i / 100);
        }
        let _ = write!(
            s,
            "- cluster:\n    certificate-authority-data: {}\n    server: https://{:X}.gr7.us-east-1.eks.amazonaws.com\n  name: arn:aws:eks:us-east-1:123456789012:cluster/c{i}\n",
            pseudo_base64(i, 1100),
            i * 7919 + 1
        );
    }
    s.push_str("contexts:\n");
    for i in 0..n {
        let _ = write!(
            s,
            "- context:\n    cluster: arn:aws:eks:us-east-1:123456789012:cluster/c{i}\n    user: user-{i}\n    namespace: team-{}\n  name: ctx-{i}\n",
            i % 37
        );
    }
    s.push_str("current-context: ctx-0\nusers:\n");
    for i in 0..n {
        if i % 2 == 0 {
            let _ = write!(
                s,
                "- name: user-{i}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1 # written by aws-cli 1.18\n      args:\n      - --region\n      - us-east-1\n      - eks\n      - get-token\n      - --cluster-name\n      - c{i}\n      command: aws\n      env:\n      - name: AWS_PROFILE\n        value: team-{}\n",
                i % 37
            );
        } else if tokens && i % 4 == 3 {
            let _ = write!(
                s,
                "- name: user-{i}\n  user:\n    token: {}\n",
                expired_token(i)
            );
        } else {
            let _ = write!(
                s,
                "- name: user-{i}\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
                pseudo_base64(i + 1_000_000, 1500),
                pseudo_base64(i + 2_000_000, 1600)
            );
        }
    }
    std::fs::File::create(&out)
        .and_then(|mut f| f.write_all(s.as_bytes()))
        .expect("write output");
    eprintln!("wrote {out}: {n} contexts, {} bytes", s.len());
}
