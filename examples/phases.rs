//! Time each phase of a plan on one file: `cargo run --release --example phases -- FILE`.
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("usage: phases FILE");
    let bytes = std::fs::read(&path).unwrap();
    let t = Instant::now();
    let text = kubefix::yaml::decode(&bytes).unwrap();
    eprintln!("decode      {:?}", t.elapsed());
    let t = Instant::now();
    let doc = kubefix::yaml::Document::parse(text).unwrap();
    eprintln!("parse       {:?} ({} nodes)", t.elapsed(), doc.len());
    let t = Instant::now();
    kubefix::schema::check(&doc).unwrap();
    eprintln!("schema      {:?}", t.elapsed());
    let t = Instant::now();
    let plan = kubefix::plan::plan_bytes(std::path::Path::new(&path), &bytes, &Default::default())
        .unwrap();
    eprintln!("whole plan  {:?}", t.elapsed());
    let t = Instant::now();
    let d = kubefix::render::diff(
        &plan,
        "x",
        false,
        false,
        kubefix::render::Style { color: false },
    );
    eprintln!("diff        {:?} ({} bytes)", t.elapsed(), d.len());
}
