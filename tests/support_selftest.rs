mod support;
use support::apiserver::*;
use support::pki::*;

#[test]
fn explore() {
    let ca = Ca::new("ca");
    let client = ca.client_cert("alice", &["dev", "ops"], Validity::Valid);
    let expired = ca.client_cert("bob", &["dev"], Validity::Expired);
    let mut opts = ServerOptions::with_token("good-token");
    opts.client_ca_pem = Some(ca.cert_pem.clone());
    opts.ca = Some(ca);
    let srv = TestApiServer::start(opts);
    let d = std::path::Path::new("/tmp/kfx");
    std::fs::write(
        d.join("tok.yaml"),
        kubeconfig_yaml(&srv, "token: good-token"),
    )
    .unwrap();
    std::fs::write(
        d.join("bad.yaml"),
        kubeconfig_yaml(&srv, "token: bad-token"),
    )
    .unwrap();
    std::fs::write(d.join("none.yaml"), kubeconfig_yaml(&srv, "")).unwrap();
    std::fs::write(
        d.join("cert.yaml"),
        kubeconfig_yaml(
            &srv,
            &format!(
                "client-certificate-data: {}\nclient-key-data: {}",
                client.cert_b64(),
                client.key_b64()
            ),
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("exp.yaml"),
        kubeconfig_yaml(
            &srv,
            &format!(
                "client-certificate-data: {}\nclient-key-data: {}",
                expired.cert_b64(),
                expired.key_b64()
            ),
        ),
    )
    .unwrap();
    std::fs::write(d.join("url"), &srv.url).unwrap();
    eprintln!("{}", srv.url);
    std::thread::sleep(std::time::Duration::from_secs(120));
    for r in srv.requests() {
        eprintln!("{r:?}");
    }
    for r in srv.tls_errors() {
        eprintln!("TLS {r}");
    }
}
