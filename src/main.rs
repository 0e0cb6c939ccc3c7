//! The `kubefix` binary: parse arguments, run, exit with the documented code.

use clap::Parser;

fn main() {
    let cli = match kubefix::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version exit 0; real usage errors exit 2 (clap's default too).
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let env = kubefix::source::Env::from_process();
    let code = kubefix::run(
        &cli,
        &env,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code as i32);
}
