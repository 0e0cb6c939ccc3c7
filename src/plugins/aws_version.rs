//! The installed aws-cli version read from how it is installed: kubefix runs no program a
//! kubeconfig names unless `--probe-exec` (issue #12), so this is the only way it learns the
//! version of the `aws` on the invoking user's `PATH` (and it saves the 0.4–0.8 s of Python
//! start-up of `aws --version` when `--probe-exec` would otherwise ask).
//!
//! Understood layouts, tried in order on the canonical path of the program:
//! - the AWS CLI v2 installer, `<install-dir>/v2/<X.Y.Z>/dist/aws` (its `bin/aws` and
//!   `v2/current` are symlinks to these), and Homebrew, `…/Cellar/awscli/<X.Y.Z>[_N]/…/aws`
//!   (also `awscli@1`): a version directory under one named `v2`, `aws-cli` or `awscli`;
//! - a pyenv shim (`$PYENV_ROOT/shims/aws`): the version is chosen as pyenv does
//!   (`PYENV_VERSION`, else `.python-version` in `$PYENV_DIR`, the current directory or their
//!   parents, else `$PYENV_ROOT/version`), then the script of that version is read;
//! - a Python script importing `awscli` (pip, pipx, venvs, distribution packages), with a
//!   `#!python` line or pip's `#!/bin/sh` + `'''exec'` trampoline: `awscli/__init__.py`
//!   is looked up where that interpreter imports it from, and its `__version__` read.
//!
//! Anything else (a binary elsewhere, a shell wrapper, `PYTHONPATH` set, an editable
//! install…) gives `None`: the caller reports the version as unknown, or with `--probe-exec`
//! runs `aws --version`. Only files reachable from the `aws` found on the invoking user's own
//! `PATH` and environment are read, never a path taken from a kubeconfig.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use std::sync::Mutex;

use crate::plugins::{self as plugin, Version};

/// The version of the aws-cli at `program` (found on the invoking user's `PATH`) read from its
/// install layout (this module), once per run; `None` when the layout does not
/// tell. Starts no process.
pub fn aws_version_from_layout(program: &Path) -> Option<Version> {
    static CACHE: Mutex<Option<HashMap<PathBuf, Option<Version>>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(v) = cache.get(program) {
        return *v;
    }
    let v = from_layout(program, &Env::current());
    cache.insert(program.to_path_buf(), v);
    v
}

/// What detection reads from the process environment; passed in so tests can fake it.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `$PATH`.
    pub path: Option<OsString>,
    /// The current directory (pyenv looks for `.python-version` from here up).
    pub cwd: Option<PathBuf>,
    /// Other variables (`HOME`, `PYENV_VERSION`, `PYTHONPATH`, …).
    pub vars: HashMap<String, OsString>,
}

impl Env {
    /// The environment of this process.
    pub fn current() -> Env {
        Env {
            path: std::env::var_os("PATH"),
            cwd: std::env::current_dir().ok(),
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
                .collect(),
        }
    }

    /// A variable, unless unset or empty.
    fn var(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .get(name)
            .map(OsString::as_os_str)
            .filter(|v| !v.is_empty())
    }
}

/// The aws-cli version at `program` (as found on PATH) read from its install layout, or
/// `None` when the layout does not tell.
pub fn from_layout(program: &Path, env: &Env) -> Option<Version> {
    detect(program, env, 0)
}

fn detect(program: &Path, env: &Env, depth: u32) -> Option<Version> {
    let real = std::fs::canonicalize(program).ok()?;
    if let Some(v) = version_in_path(&real) {
        return Some(v);
    }
    let head = head_of(&real)?;
    if depth < 2 && real.parent().and_then(Path::file_name) == Some(OsStr::new("shims")) {
        if head.contains("pyenv") {
            let target = pyenv_target(&real, env)?;
            return detect(&target, env, depth + 1);
        }
        return None;
    }
    let (interpreter, flags) = python_interpreter(&head, env)?;
    if !head.contains("awscli") {
        return None;
    }
    version_from_site_packages(&real, &interpreter, &flags, env)
}

/// The first few KB of a file, if it is text.
fn head_of(path: &Path) -> Option<String> {
    String::from_utf8(crate::source::read_head(path, 8192).ok()?).ok()
}

/// `X.Y.Z` (Homebrew adds `_N` for a rebuilt keg).
fn exact_version(name: &str) -> Option<Version> {
    let name = match name.split_once('_') {
        Some((v, rev)) if !rev.is_empty() && rev.bytes().all(|b| b.is_ascii_digit()) => v,
        Some(_) => return None,
        None => name,
    };
    let mut parts = name.split('.').map(|p| {
        (!p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    });
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

/// The v2 installer's `…/v2/2.15.30/dist/aws`, Homebrew's `…/Cellar/awscli/2.15.30/…`.
fn version_in_path(real: &Path) -> Option<Version> {
    let names: Vec<&str> = real
        .parent()?
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    names.windows(2).find_map(|w| {
        let v = exact_version(w[1])?;
        let base = w[0].split_once('@').map_or(w[0], |(b, _)| b);
        match base {
            "v2" if w[0] == "v2" && v.0 == 2 => Some(v),
            "aws-cli" | "awscli" => Some(v),
            _ => None,
        }
    })
}

/// The program a pyenv shim runs: `$PYENV_ROOT/versions/<version>/bin/<name>` for the first
/// selected version that has it (`system`: the next one on PATH after the shims).
fn pyenv_target(shim: &Path, env: &Env) -> Option<PathBuf> {
    let name = shim.file_name()?;
    let shims = shim.parent()?;
    let root = shims.parent()?;
    let selected = match env.var("PYENV_VERSION") {
        Some(v) => v.to_str()?.to_string(),
        None => {
            let file = env
                .var("PYENV_DIR")
                .map(PathBuf::from)
                .into_iter()
                .chain(env.cwd.clone())
                .find_map(|dir| {
                    dir.ancestors()
                        .map(|d| d.join(".python-version"))
                        .find(|f| f.is_file())
                })
                .unwrap_or_else(|| root.join("version"));
            read_version_file(&file).unwrap_or_default()
        }
    };
    for version in selected.split(':') {
        if version.is_empty() || version == "system" {
            // pyenv: no version selected means `system`.
            let path = env.path.as_deref()?;
            let rest = std::env::join_paths(
                std::env::split_paths(path)
                    .filter(|d| std::fs::canonicalize(d).map_or(true, |d| d.as_path() != shims)),
            )
            .ok()?;
            match plugin::find_in(name.to_str()?, &rest) {
                Some(p) => return Some(p),
                None => continue,
            }
        }
        if version == ".." || version.contains('/') {
            return None; // pyenv checks these against path traversal; leave it to pyenv
        }
        let versions = root.join("versions");
        let dir = if versions.join(version).is_dir() {
            versions.join(version)
        } else {
            // `python-3.12` names 3.12; a prefix (`3.12`) means the latest installed one,
            // which is pyenv's business.
            let plain = version.strip_prefix("python-")?;
            versions
                .join(plain)
                .is_dir()
                .then(|| versions.join(plain))?
        };
        let p = dir.join("bin").join(name);
        if plugin::executable(&p) {
            return Some(p);
        }
    }
    None
}

/// The versions a pyenv version file selects, `:`-joined as pyenv does: the first word of
/// each line, comments and blank lines skipped.
fn read_version_file(file: &Path) -> Option<String> {
    let text = head_of(file)?;
    let words: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| !w.starts_with('#'))
        .collect();
    (!words.is_empty()).then(|| words.join(":"))
}

/// The Python interpreter a script starts (`#!/path/python3.11 -s`, `#!/usr/bin/env python3`,
/// or pip's `#!/bin/sh` + `'''exec' "/long/path/python" "$0" "$@"`) and its flags.
fn python_interpreter(head: &str, env: &Env) -> Option<(PathBuf, String)> {
    let mut lines = head.lines();
    let shebang = lines.next()?.strip_prefix("#!")?.trim();
    let (interp, rest) = if shebang == "/bin/sh" {
        let line = lines.next()?.strip_prefix("'''exec' ")?;
        let (exe, rest) = match line.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"')?,
            None => line.split_once(' ')?,
        };
        if exe.contains(['$', '`', '\\']) {
            return None;
        }
        let rest = rest.trim();
        let flags = rest.strip_suffix("\"$0\" \"$@\"")?.trim();
        (PathBuf::from(exe), flags.to_string())
    } else {
        let mut words = shebang.split_whitespace();
        let first = words.next()?;
        if Path::new(first).file_name() == Some(OsStr::new("env")) {
            let name = words.next()?;
            let exe = plugin::find_in(name, env.path.as_deref()?)?;
            (exe, words.collect::<Vec<_>>().join(" "))
        } else {
            (PathBuf::from(first), words.collect::<Vec<_>>().join(" "))
        }
    };
    let file = interp.file_name()?.to_str()?;
    (interp.is_absolute() && file.starts_with("python")).then_some((interp, rest))
}

/// `awscli/__init__.py`'s `__version__`, from the first directory on the interpreter's
/// `sys.path` (as CPython builds it) that has the package.
fn version_from_site_packages(
    script: &Path,
    interpreter: &Path,
    flags: &str,
    env: &Env,
) -> Option<Version> {
    let flag = |c: char| {
        flags
            .split_whitespace()
            .any(|f| f.starts_with('-') && !f.starts_with("--") && f.contains(c))
    };
    let isolated = flag('I');
    let ignore_env = isolated || flag('E');
    if !ignore_env && (env.var("PYTHONPATH").is_some() || env.var("PYTHONHOME").is_some()) {
        return None;
    }
    let bin = interpreter.parent()?;
    let venv = [bin.join("pyvenv.cfg"), bin.parent()?.join("pyvenv.cfg")]
        .into_iter()
        .find(|p| p.is_file());
    let real = std::fs::canonicalize(interpreter).ok()?;
    let prefix = match &venv {
        Some(cfg) => cfg.parent()?.to_path_buf(),
        None => {
            let bin = real.parent()?;
            (bin.file_name()? == "bin")
                .then_some(bin.parent()?)?
                .to_path_buf()
        }
    };
    let xy = match real
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_prefix("python"))
        .filter(|v| v.contains('.'))
    {
        Some(v) => v.to_string(),
        None => only_python_lib(&prefix)?,
    };
    let py = format!("python{xy}");

    let mut dirs: Vec<PathBuf> = vec![script.parent()?.to_path_buf()];
    if let Some(cfg) = &venv {
        if read_text(cfg).is_some_and(|t| {
            t.lines().any(|l| {
                l.split_once('=').is_some_and(|(k, v)| {
                    k.trim() == "include-system-site-packages" && v.trim() == "true"
                })
            })
        }) {
            return None; // the base interpreter's paths too; not worth guessing
        }
    } else {
        let no_user =
            isolated || flag('s') || (!ignore_env && env.var("PYTHONNOUSERSITE").is_some());
        if !no_user {
            let base = match env.var("PYTHONUSERBASE").filter(|_| !ignore_env) {
                Some(b) => Some(PathBuf::from(b)),
                None => env.var("HOME").map(|h| {
                    if cfg!(target_os = "macos") && prefix.to_string_lossy().contains(".framework/")
                    {
                        Path::new(h).join("Library/Python").join(&xy)
                    } else {
                        Path::new(h).join(".local")
                    }
                }),
            };
            if let Some(base) = base {
                if cfg!(target_os = "macos") && base.ends_with(&xy) {
                    dirs.push(base.join("lib/python/site-packages"));
                } else {
                    dirs.push(base.join("lib").join(&py).join("site-packages"));
                }
            }
        }
        if prefix == Path::new("/usr") {
            for lib in ["lib64", "lib"] {
                for sub in ["dist-packages", "site-packages"] {
                    dirs.push(Path::new("/usr/local").join(lib).join(&py).join(sub));
                }
            }
        }
    }
    dirs.extend([
        prefix.join("lib64").join(&py).join("site-packages"),
        prefix.join("lib").join(&py).join("site-packages"),
        prefix.join("lib").join(&py).join("dist-packages"),
        prefix.join("lib/python3/dist-packages"),
    ]);
    let init = dirs
        .iter()
        .map(|d| d.join("awscli/__init__.py"))
        .find(|f| f.is_file())?;
    init_version(&read_text(&init)?)
}

/// A small text file (bounded, never blocking on a FIFO).
fn read_text(path: &Path) -> Option<String> {
    String::from_utf8(crate::source::read_regular(path, crate::source::Kind::Text).ok()?).ok()
}

/// The `X.Y` of the single `lib/pythonX.Y` under `prefix`.
fn only_python_lib(prefix: &Path) -> Option<String> {
    let mut found = std::fs::read_dir(prefix.join("lib"))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| {
            let v = n.strip_prefix("python3.")?;
            (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())).then(|| format!("3.{v}"))
        });
    let one = found.next()?;
    found.next().is_none().then_some(one)
}

/// `__version__ = '1.45.11'` in a package's `__init__.py`.
fn init_version(source: &str) -> Option<Version> {
    source.lines().find_map(|l| {
        let rest = l
            .strip_prefix("__version__")?
            .trim_start()
            .strip_prefix('=')?;
        let rest = rest.trim();
        let q = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let value = rest[1..].split(q).next()?;
        plugin::parse_version(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn file(path: &Path, text: &str, mode: u32) -> PathBuf {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        path.to_path_buf()
    }

    fn link(target: &Path, at: &Path) -> PathBuf {
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        symlink(target, at).unwrap();
        at.to_path_buf()
    }

    /// An environment with nothing but what the test gives.
    fn env(vars: &[(&str, &OsStr)]) -> Env {
        Env {
            path: None,
            cwd: None,
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_os_string()))
                .collect(),
        }
    }

    const AWS_SCRIPT: &str =
        "import sys\nimport awscli.clidriver\nsys.exit(awscli.clidriver.main())\n";

    /// A Python install at `prefix` (`bin/python3` → `python3.11`) with awscli `version`.
    fn python_with_awscli(prefix: &Path, version: &str) -> PathBuf {
        let py = file(&prefix.join("bin/python3.11"), "", 0o755);
        link(&py, &prefix.join("bin/python3"));
        file(
            &prefix.join("lib/python3.11/site-packages/awscli/__init__.py"),
            &format!("\"\"\"AWS CLI\"\"\"\nimport os\n\n__version__ = '{version}'\n\n_awscli_data_path = []\n"),
            0o644,
        );
        prefix.join("bin/python3")
    }

    #[test]
    fn v2_installer_layout() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("usr/local/aws-cli");
        let exe = file(&root.join("v2/2.15.30/dist/aws"), "\x7fELF\0\0", 0o755);
        link(Path::new("../dist/aws"), &root.join("v2/2.15.30/bin/aws"));
        link(&root.join("v2/2.15.30"), &root.join("v2/current"));
        let on_path = link(
            &root.join("v2/current/bin/aws"),
            &d.path().join("usr/local/bin/aws"),
        );
        assert_eq!(from_layout(&on_path, &env(&[])), Some((2, 15, 30)));
        assert_eq!(from_layout(&exe, &env(&[])), Some((2, 15, 30)));
        // `-i ~/.local/aws-cli`: any root, the v2/<version> part tells.
        let other = file(&d.path().join("x/v2/2.6.2/dist/aws"), "\x7fELF", 0o755);
        assert_eq!(from_layout(&other, &env(&[])), Some((2, 6, 2)));
        // A v2 directory with a v1 version is not the installer's.
        let odd = file(&d.path().join("y/v2/1.2.3/aws"), "\x7fELF", 0o755);
        assert_eq!(from_layout(&odd, &env(&[])), None);
    }

    #[test]
    fn homebrew_layout() {
        let d = tempfile::tempdir().unwrap();
        let keg = d.path().join("opt/homebrew/Cellar/awscli/2.15.30_1");
        let real = file(
            &keg.join("libexec/bin/aws"),
            "#!/nonexistent/python3\nimport awscli\n",
            0o755,
        );
        link(&real, &keg.join("bin/aws"));
        let on_path = link(&keg.join("bin/aws"), &d.path().join("opt/homebrew/bin/aws"));
        assert_eq!(from_layout(&on_path, &env(&[])), Some((2, 15, 30)));
        let v1 = file(
            &d.path().join("Cellar/awscli@1/1.18.210/bin/aws"),
            "#!/bin/sh\n",
            0o755,
        );
        assert_eq!(from_layout(&v1, &env(&[])), Some((1, 18, 210)));
        assert_eq!(exact_version("2.15.30_x"), None);
        assert_eq!(exact_version("2.15"), None);
        assert_eq!(exact_version("2.15.30.1"), None);
    }

    #[test]
    fn pip_script_reads_site_packages() {
        let d = tempfile::tempdir().unwrap();
        let prefix = d.path().join("py");
        let py = python_with_awscli(&prefix, "1.22.0");
        let aws = file(
            &prefix.join("bin/aws"),
            &format!("#!{}\n{AWS_SCRIPT}", py.display()),
            0o755,
        );
        let on_path = link(&aws, &d.path().join("bin/aws"));
        assert_eq!(from_layout(&on_path, &env(&[])), Some((1, 22, 0)));

        // pip's trampoline for interpreters whose path is too long (or has spaces).
        let sh = file(
            &d.path().join("long/aws"),
            &format!(
                "#!/bin/sh\n'''exec' \"{}\" \"$0\" \"$@\"\n' '''\n{AWS_SCRIPT}",
                py.display()
            ),
            0o755,
        );
        assert_eq!(from_layout(&sh, &env(&[])), Some((1, 22, 0)));

        // The user site comes first, unless `-s` is on the #! line.
        let home = d.path().join("home");
        file(
            &home.join(".local/lib/python3.11/site-packages/awscli/__init__.py"),
            "__version__ = \"1.45.11\"\n",
            0o644,
        );
        let e = env(&[("HOME", home.as_os_str())]);
        assert_eq!(from_layout(&aws, &e), Some((1, 45, 11)));
        let no_user = file(
            &prefix.join("bin/aws-s"),
            &format!("#!{} -s\n{AWS_SCRIPT}", py.display()),
            0o755,
        );
        assert_eq!(from_layout(&no_user, &e), Some((1, 22, 0)));

        // PYTHONPATH could put anything first: do not guess.
        let e = env(&[("PYTHONPATH", OsStr::new("/somewhere"))]);
        assert_eq!(from_layout(&aws, &e), None);

        // A Python script that is not aws-cli's.
        let other = file(
            &prefix.join("bin/aws-other"),
            &format!("#!{}\nimport something_else\n", py.display()),
            0o755,
        );
        assert_eq!(from_layout(&other, &env(&[])), None);
    }

    #[test]
    fn venv_and_debian_layouts() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().join("base");
        let base_py = python_with_awscli(&base, "1.10.0");
        // A venv: bin/python links to the base interpreter; its own site-packages count.
        let venv = d.path().join("venv");
        let vpy = link(&base_py, &venv.join("bin/python"));
        file(
            &venv.join("pyvenv.cfg"),
            "home = /x\ninclude-system-site-packages = false\n",
            0o644,
        );
        file(
            &venv.join("lib/python3.11/site-packages/awscli/__init__.py"),
            "__version__ = '1.30.1'\n",
            0o644,
        );
        let aws = file(
            &venv.join("bin/aws"),
            &format!("#!{}\n{AWS_SCRIPT}", vpy.display()),
            0o755,
        );
        assert_eq!(from_layout(&aws, &env(&[])), Some((1, 30, 1)));

        // dist-packages (Debian's python3-awscli lives in lib/python3/dist-packages).
        let deb = d.path().join("deb");
        let py = file(&deb.join("bin/python3.11"), "", 0o755);
        std::fs::create_dir_all(deb.join("lib/python3.11")).unwrap();
        file(
            &deb.join("lib/python3/dist-packages/awscli/__init__.py"),
            "__version__ = '1.22.34'\n",
            0o644,
        );
        let aws = file(
            &deb.join("bin/aws"),
            &format!("#!{}\n{AWS_SCRIPT}", py.display()),
            0o755,
        );
        assert_eq!(from_layout(&aws, &env(&[])), Some((1, 22, 34)));
    }

    #[test]
    fn pyenv_shim_follows_the_selected_version() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join(".pyenv");
        let shim = file(
            &root.join("shims/aws"),
            &format!(
                "#!/usr/bin/env bash\nset -e\nexport PYENV_ROOT=\"{}\"\nexec \"{}/libexec/pyenv\" exec \"aws\" \"$@\"\n",
                root.display(),
                root.display()
            ),
            0o755,
        );
        for (v, aws) in [("3.11.7", "1.45.11"), ("3.8.18", "1.22.0")] {
            let prefix = root.join("versions").join(v);
            let py = python_with_awscli(&prefix, aws);
            file(
                &prefix.join("bin/aws"),
                &format!("#!{}\n{AWS_SCRIPT}", py.display()),
                0o755,
            );
        }
        file(&root.join("versions/3.12.1/bin/python3.12"), "", 0o755);

        // PYENV_VERSION wins; the first version of a list that has the command.
        let e = env(&[("PYENV_VERSION", OsStr::new("3.8.18"))]);
        assert_eq!(from_layout(&shim, &e), Some((1, 22, 0)));
        let e = env(&[("PYENV_VERSION", OsStr::new("3.12.1:3.11.7"))]);
        assert_eq!(from_layout(&shim, &e), Some((1, 45, 11)));

        // Else the global version file…
        file(&root.join("version"), "# comment\n3.11.7\n", 0o644);
        assert_eq!(from_layout(&shim, &env(&[])), Some((1, 45, 11)));

        // …unless a .python-version in the current directory or a parent says otherwise.
        let project = d.path().join("project");
        file(&project.join(".python-version"), "3.8.18\n", 0o644);
        std::fs::create_dir_all(project.join("src/deep")).unwrap();
        let mut e = env(&[]);
        e.cwd = Some(project.join("src/deep"));
        assert_eq!(from_layout(&shim, &e), Some((1, 22, 0)));

        // A version pyenv must resolve itself (prefix), or one without aws: not known here.
        let e = env(&[("PYENV_VERSION", OsStr::new("3.11"))]);
        assert_eq!(from_layout(&shim, &e), None);
        let e = env(&[("PYENV_VERSION", OsStr::new("3.12.1"))]);
        assert_eq!(from_layout(&shim, &e), None);
    }

    #[test]
    fn pyenv_system_looks_past_the_shims() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join(".pyenv");
        let shim = file(
            &root.join("shims/aws"),
            "#!/usr/bin/env bash\nexec pyenv exec aws\n",
            0o755,
        );
        let brew = d.path().join("Cellar/awscli/2.9.0/bin/aws");
        file(&brew, "#!/bin/sh\n", 0o755);
        let bin = d.path().join("bin");
        link(&brew, &bin.join("aws"));
        let mut e = env(&[("PYENV_VERSION", OsStr::new("system"))]);
        e.path = Some(std::env::join_paths([root.join("shims"), bin]).unwrap());
        assert_eq!(from_layout(&shim, &e), Some((2, 9, 0)));
    }

    #[test]
    fn unknown_layouts_say_nothing() {
        let d = tempfile::tempdir().unwrap();
        // A shell script printing a version (as the integration tests' fake aws does).
        let sh = file(
            &d.path().join("bin/aws"),
            "#!/bin/sh\necho 'aws-cli/1.22.0 Python/3.8.10'\n",
            0o755,
        );
        assert_eq!(from_layout(&sh, &env(&[])), None);
        let bin = file(&d.path().join("other/aws"), "\x7fELF\x02\x01", 0o755);
        assert_eq!(from_layout(&bin, &env(&[])), None);
        assert_eq!(from_layout(&d.path().join("missing"), &env(&[])), None);
    }

    #[test]
    fn reads_init_versions() {
        assert_eq!(init_version("__version__ = '1.45.11'\n"), Some((1, 45, 11)));
        assert_eq!(
            init_version("x = 1\n__version__=\"2.15.30\"\n"),
            Some((2, 15, 30))
        );
        assert_eq!(init_version("__version__ = VERSION\n"), None);
    }

    /// This machine's aws-cli, when there is one: the layout must agree with `aws --version`.
    #[test]
    fn agrees_with_the_installed_aws() {
        let env = Env::current();
        let Some(aws) = env.path.as_deref().and_then(|p| plugin::find_in("aws", p)) else {
            return;
        };
        let Some(found) = from_layout(&aws, &env) else {
            return;
        };
        let ran = match plugin::run(&aws, &["--version".into()], &[], plugin::PROBE_TIMEOUT) {
            plugin::Ran::Exited { stdout, stderr, .. } => {
                plugin::parse_aws_version(&stdout).or_else(|| plugin::parse_aws_version(&stderr))
            }
            _ => None,
        };
        assert_eq!(Some(found), ran, "{}", aws.display());
    }
}
