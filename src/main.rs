//! The `kubefix` binary: parse arguments, run, exit with the documented code.

use clap::FromArgMatches;

fn main() {
    let argv0 = std::env::args().next().unwrap_or_else(|| "kubefix".into());
    // Installed (or linked) as `kubectl_complete-fix` (or `kubectl_complete-fix_kubeconfig`),
    // kubectl asks us for completions.
    if kubefix::cli::is_plugin_completion(&argv0) {
        let words: Vec<String> = std::env::args().skip(1).collect();
        let (candidates, directive) = kubefix::cli::complete(&words);
        for c in candidates {
            println!("{c}");
        }
        println!(":{directive}");
        return;
    }
    // An over-limit write (`ulimit -f`) must fail with EFBIG, which kubefix reports and
    // cleans up after, not kill it with SIGXFSZ and leave its lock blocking kubectl.
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGXFSZ,
            nix::sys::signal::SigHandler::SigIgn,
        )
    };
    let cli = kubefix::cli::command_for(&argv0)
        .try_get_matches()
        .and_then(|m| kubefix::cli::Cli::from_arg_matches(&m));
    let cli = match cli {
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
        &argv0,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code as i32);
}
