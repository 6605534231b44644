//! Every documented command runs as written (issue 14, "Done when").
//!
//! The commands are extracted, not listed: every line of every code block of
//! README.md that starts with `blyss-evidence` or `cargo`, and every command
//! of every "Example:"/"Examples:" section of every subcommand's `--help`
//! (subcommands are discovered from the built binary's own "Commands:"
//! lists). Adding a README command or a help example therefore needs no
//! change here, unless it uses a new placeholder or cannot run offline.
//!
//! Each command runs with the binary the tests build, in a fresh directory
//! per documented place (README.md, each `--help` page: each is followed on
//! its own, from a fresh start) shared by its commands in document order (so
//! `collect … -o imported.zip` feeds the `audit imported.zip` after it), with
//! placeholders filled from [`PLACEHOLDERS`]. Online commands (`collect` or
//! `verify` of an `https://` URL) run against the loopback test world with
//! its URL, trust file and services substituted. Each must exit as its text
//! says: 0 unless [`EXPECTED`] names another code and why. Commands that
//! cannot run here are in [`NOT_RUN`] with the reason, and the test fails if
//! an entry there no longer matches any documented command (no stale
//! exclusions).

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Documented commands that are not run, matched by prefix, with the reason.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo test",
        "the test suite itself (this test is part of it)",
    ),
    (
        "blyss-evidence measure --firmware OVMF.fd --kernel vmlinuz --initrd initrd.img",
        "needs a kernel and an initrd image: none is shipped (the sev-snp-measure-style inputs are tested in measure_cli)",
    ),
    (
        "blyss-evidence collect --gpu-evidence nvidia-evidence.json --fetch-rims --fetch-ocsp",
        "asks NVIDIA's RIM service and OCSP responder, which the test world does not replace here (run against look-alikes in collect_field_online::cli_import_with_fetch_rims_and_fetch_ocsp_writes_a_bundle_with_both)",
    ),
    (
        "blyss-evidence collect https://inference.tinfoil.sh --protocol tinfoil",
        "needs GitHub's API and a Tinfoil enclave: run against look-alikes serving the real Tinfoil bundle in collect_field_online::tinfoil_*",
    ),
];

/// Documented commands whose text implies an exit code other than 0,
/// matched by prefix of the documented text (before substitution), with why.
const EXPECTED: &[(&str, &[i32], &str)] = &[
    (
        "blyss-evidence ct check fullchain.pem",
        &[1],
        "a 2024 certificate judged against the recent embedded list: the help says an absent log fails",
    ),
    (
        "blyss-evidence ct check cert.der --issuer issuer.der --log-list log_list.json --log-list-sig",
        &[1],
        "cert.der is the 2024 certificate, log_list.json the shipped signed list of 2021: it verifies but does not know the 2024 logs",
    ),
    (
        "blyss-evidence audit bundle.zip --signer collector.key.pub",
        &[1],
        "bundle.zip is an offline import audited in scope full: TLS, CT and image evidence are missing, so the audit fails (README, --scope)",
    ),
    (
        "blyss-evidence report render report.json",
        &[1],
        "report.json is the saved report of the real January 2024 bundle in scope full, whose verdict is FAIL: the help says the exit code is the saved verdict's",
    ),
    (
        "blyss-evidence verify",
        &[1],
        "collects and audits (exit 2 would mean it could not): the test world serves no registry (--no-images), so images.manifest fails the verdict (and --protocol v0.0.1-test also fails protocol.cmdline: the world serves the production document)",
    ),
    (
        "blyss-evidence audit hgx.zip --protocol gpu-only",
        &[1],
        "the real HGX box: driver 570.124.06 and VBIOS 96.00.CF.00.02 have no public RIMs, so gpu.measurements fails (every signature, chain and the topology pass)",
    ),
    (
        "blyss-evidence audit blyss.zip",
        &[1],
        "blyss.zip comes from the test world, whose AMD and TLS roots the embedded production set does not trust: the audit runs and fails",
    ),
];

/// Placeholders of the documentation and the shipped files that stand in
/// for them (paths relative to the repository).
const PLACEHOLDERS: &[(&str, &str)] = &[
    (
        "attestation.json",
        "fixtures/blyss/attestation-2024-01.json",
    ),
    ("bundle.zip", "fixtures/bundles/blyss-2024-01.zip"),
    (
        "attestation-bundle.json",
        "fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/attestation-bundle.json",
    ),
    ("report.bin", "fixtures/synthetic/test-genoa-report.bin"),
    ("vcek.der", "fixtures/synthetic/test-genoa-vcek.der"),
    (
        "aws-report.bin",
        "fixtures/field/snp-aws-milan-v3-vlek/report.bin",
    ),
    ("vlek.der", "fixtures/field/snp-aws-milan-v3-vlek/vlek.der"),
    ("cert.der", "fixtures/ct/le-2024/lencr.org.der"),
    ("issuer.der", "fixtures/ct/le-2024/issuer-r3.der"),
    (
        "log_list.json",
        "fixtures/ct/google-log-list-2021/log_list.json",
    ),
    (
        "log_list.sig",
        "fixtures/ct/google-log-list-2021/log_list.sig",
    ),
    ("report.json", "tests/snapshots/blyss-2024-01-full.json"),
    (
        "nvidia-evidence.json",
        "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/nvidia-evidence.json",
    ),
    (
        "driver.xml",
        "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/NV_GPU_DRIVER_GH100_550.90.07.xml",
    ),
    (
        "vbios.xml",
        "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/NV_GPU_VBIOS_1010_0200_882_96009F0001.xml",
    ),
    (
        "switches.json",
        "fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim/nvidia-switch-evidence.json",
    ),
    (
        "switch-bios.xml",
        "fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml",
    ),
    (
        "l2.dat",
        "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/test_gpu_certificate_l2_base64encoded_ocsp_response.dat",
    ),
    (
        "l3.dat",
        "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/test_gpu_certificate_l3_base64encoded_ocsp_response.dat",
    ),
];

/// Flags whose value is an output path (never substituted: it lands in the
/// run directory).
const OUTPUT_FLAGS: &[&str] = &[
    "-o",
    "--output",
    "--json",
    "--html",
    "--markdown",
    "--keep",
    ">",
];

struct Doc {
    origin: String,
    text: String,
}

/// Removes a trailing ` # comment` outside quotes.
fn strip_comment(line: &str) -> &str {
    let (mut sq, mut dq) = (false, false);
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\'' if !dq => sq = !sq,
            b'"' if !sq => dq = !dq,
            b'#' if !sq && !dq && (i == 0 || b[i - 1] == b' ') => return line[..i].trim_end(),
            _ => {}
        }
    }
    line.trim_end()
}

/// Joins `\`-continued lines and keeps those that are commands.
fn commands_in(lines: &[&str], origin: &str) -> Vec<Doc> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for l in lines {
        let l = l.trim();
        if cur.is_empty() && (l.is_empty() || l.starts_with('#')) {
            continue;
        }
        let body = strip_comment(l);
        if let Some(b) = body.strip_suffix('\\') {
            cur.push_str(b.trim_end());
            cur.push(' ');
            continue;
        }
        cur.push_str(body);
        let text = std::mem::take(&mut cur).trim().to_string();
        if text.starts_with("blyss-evidence ") || text.starts_with("cargo ") {
            out.push(Doc {
                origin: origin.to_string(),
                text,
            });
        }
    }
    assert!(cur.is_empty(), "{origin}: a command ends with '\\'");
    out
}

fn readme() -> Vec<Doc> {
    let t = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for l in t.lines() {
        if l.trim_start().starts_with("```") {
            match block.take() {
                Some(b) => out.extend(commands_in(&b, "README.md")),
                None => block = Some(Vec::new()),
            }
        } else if let Some(b) = &mut block {
            b.push(l);
        }
    }
    assert!(block.is_none(), "README.md: unterminated code block");
    out
}

fn run_bin(args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("blyss-evidence"))
        .args(args)
        .output()
        .unwrap()
}

/// Every subcommand path, discovered from the "Commands:" lists.
fn subcommands(prefix: &[String]) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = prefix.iter().map(String::as_str).collect();
    args.push("--help");
    let o = run_bin(&args);
    assert!(o.status.success(), "{args:?}");
    let help = String::from_utf8(o.stdout).unwrap();
    let mut out = vec![prefix.to_vec()];
    let mut in_cmds = false;
    for l in help.lines() {
        if l == "Commands:" {
            in_cmds = true;
            continue;
        }
        if in_cmds {
            if !l.starts_with("  ") {
                in_cmds = false;
                continue;
            }
            let name = l.split_whitespace().next().unwrap().to_string();
            if name != "help" {
                let mut p = prefix.to_vec();
                p.push(name);
                out.extend(subcommands(&p));
            }
        }
    }
    out
}

fn help_examples() -> Vec<Doc> {
    let mut out = Vec::new();
    for path in subcommands(&[]) {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = String::from_utf8(run_bin(&args).stdout).unwrap();
        let origin = format!("blyss-evidence {} --help", path.join(" "));
        let lines: Vec<&str> = help.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            if lines[i] == "Examples:" || lines[i] == "Example:" {
                let mut sect = Vec::new();
                i += 1;
                while i < lines.len() && lines[i].starts_with("  ") {
                    sect.push(lines[i]);
                    i += 1;
                }
                out.extend(commands_in(&sect, &origin));
            }
            i += 1;
        }
    }
    out
}

/// Splits a command like a POSIX shell would for these simple lines:
/// single and double quotes, no variables (a `$` is refused).
fn words(s: &str) -> Vec<String> {
    assert!(
        !s.contains('$'),
        "undefined shell variable in a documented command: {s}"
    );
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut q: Option<char> = None;
    for c in s.chars() {
        match (q, c) {
            (Some(x), c) if c == x => q = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                q = Some(c);
                has = true
            }
            (None, c) if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    assert!(q.is_none(), "unbalanced quote: {s}");
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

struct Env {
    /// The run directory of the current documented place.
    dir: tempfile::TempDir,
    #[cfg(feature = "collect")]
    world: Option<crate::common::world::World>,
}

impl Env {
    fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// The argument list to run, after substitutions.
    fn substitute(&mut self, text: &str) -> (Vec<String>, Option<String>) {
        let w = words(text);
        let mut args: Vec<String> = Vec::new();
        let mut stdout_to = None;
        let mut i = 1; // after "blyss-evidence"
        let online = w.iter().any(|a| a.starts_with("https://"));
        while i < w.len() {
            let a = &w[i];
            let prev = args.last().map(String::as_str).unwrap_or("");
            if a == ">" {
                stdout_to = w.get(i + 1).cloned();
                i += 2;
                continue;
            }
            if online && matches!(a.as_str(), "--trust" | "--kds-url" | "--registry-mirror") {
                i += 2; // replaced by the world's
                continue;
            }
            let s = if OUTPUT_FLAGS.contains(&prev) {
                a.clone()
            } else if a.starts_with("https://") {
                self.world_url()
            } else if let Some(rest) = a.strip_prefix("~/.config/") {
                self.config().join(rest).display().to_string()
            } else if a.ends_with("OVMF_v0.0.1.fd") {
                crate::common::measure::firmware_path()
                    .display()
                    .to_string()
            } else if a.starts_with("fixtures/") {
                root().join(a).display().to_string()
            } else if prev == "--signer" && a == "collector.key.pub" {
                root()
                    .join("fixtures/keys/fixture-collector.key.pub")
                    .display()
                    .to_string()
            } else if let Some((_, f)) = PLACEHOLDERS.iter().find(|(p, _)| p == a) {
                root().join(f).display().to_string()
            } else {
                a.clone()
            };
            args.push(s);
            i += 1;
        }
        if online {
            self.add_world_args(&mut args);
        }
        (args, stdout_to)
    }

    #[cfg(feature = "collect")]
    fn world(&mut self) -> &crate::common::world::World {
        self.world.get_or_insert_with(|| {
            let w = crate::common::world::World::start();
            w.serve_synthetic("v0.0.1", &w.enclave_cert);
            w
        })
    }

    #[cfg(feature = "collect")]
    fn world_url(&mut self) -> String {
        self.world().url()
    }

    #[cfg(not(feature = "collect"))]
    fn world_url(&mut self) -> String {
        unreachable!("online commands are not run without the collect feature")
    }

    #[cfg(feature = "collect")]
    fn add_world_args(&mut self, args: &mut Vec<String>) {
        let w = self.world();
        let mut extra = vec![
            ("--trust", w.trust_file().display().to_string()),
            ("--kds-url", w.kds.url()),
            ("--log-list-url", w.ct.list_url.clone()),
            ("--connect-timeout", "2".into()),
            ("--read-timeout", "5".into()),
            ("--timeout", "10".into()),
        ];
        extra.retain(|(f, _)| !args.iter().any(|a| a == f));
        for (f, v) in extra {
            args.push(f.into());
            args.push(v);
        }
        // No registry in the world: never reach Docker Hub from a test.
        args.push("--no-images".into());
    }

    #[cfg(not(feature = "collect"))]
    fn add_world_args(&mut self, _args: &mut Vec<String>) {}
}

#[test]
fn every_readme_command_and_help_example_runs_as_its_text_says() {
    let mut docs = readme();
    let n_readme = docs.len();
    docs.extend(help_examples());
    assert!(n_readme >= 10, "README commands found: {n_readme}");
    assert!(
        docs.len() >= n_readme + 20,
        "help examples found: {}",
        docs.len() - n_readme
    );

    // No stale exclusion or expectation: each matches a documented command.
    for (p, why) in NOT_RUN {
        assert!(
            docs.iter().any(|d| d.text.starts_with(p)),
            "NOT_RUN entry matches nothing: {p} ({why})"
        );
    }
    for (p, _, why) in EXPECTED {
        assert!(
            docs.iter().any(|d| d.text.starts_with(p)),
            "EXPECTED entry matches nothing: {p} ({why})"
        );
    }

    let mut env = Env {
        dir: tempfile::tempdir().unwrap(),
        #[cfg(feature = "collect")]
        world: None,
    };
    // `fullchain.pem` of the ct help: the shipped certificate and its issuer.
    let pem = |der: &[u8]| {
        use base64::Engine as _;
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        let body: Vec<&str> = b
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            body.join("\n")
        )
    };
    let fx = |p: &str| std::fs::read(root().join("fixtures/ct/le-2024").join(p)).unwrap();
    let fullchain = pem(&fx("lencr.org.der")) + &pem(&fx("issuer-r3.der"));
    let fresh = |env: &mut Env| {
        env.dir = tempfile::tempdir().unwrap();
        // The README's set-up: a per-user collector key exists (`collect`
        // creates it on first use; `verify --key ~/.config/…` presumes it).
        let keys = env.config().join("blyss-evidence");
        std::fs::create_dir_all(&keys).unwrap();
        for (from, to) in [
            ("fixture-collector.key", "collector.key"),
            ("fixture-collector.key.pub", "collector.key.pub"),
        ] {
            std::fs::copy(root().join("fixtures/keys").join(from), keys.join(to)).unwrap();
        }
        std::fs::write(env.dir.path().join("fullchain.pem"), &fullchain).unwrap();
    };
    let mut origin = String::new();
    let mut unavailable: Vec<String> = Vec::new();

    let mut failures = Vec::new();
    let mut ran = 0;
    for d in &docs {
        if d.origin != origin {
            origin = d.origin.clone();
            fresh(&mut env);
            unavailable.clear();
        }
        if let Some((_, why)) = NOT_RUN.iter().find(|(p, _)| d.text.starts_with(p)) {
            eprintln!("not run ({why}): {}", d.text);
            continue;
        }
        let online = d.text.contains("https://");
        if online && !cfg!(feature = "collect") {
            eprintln!(
                "not run (online; this build has no collect feature): {}",
                d.text
            );
            // Its outputs do not exist: the commands reading them cannot run either.
            let w = words(&d.text);
            for pair in w.windows(2) {
                if OUTPUT_FLAGS.contains(&pair[0].as_str()) {
                    unavailable.push(pair[1].clone());
                }
            }
            continue;
        }
        if let Some(f) = words(&d.text).iter().find(|a| unavailable.contains(a)) {
            eprintln!(
                "not run (reads {f}, the output of an online command not run in this build): {}",
                d.text
            );
            continue;
        }
        // `cargo run --release -- ARGS` is the binary with ARGS.
        let text = match d.text.strip_prefix("cargo run --release -- ") {
            Some(rest) => format!("blyss-evidence {rest}"),
            None => d.text.clone(),
        };
        let expected: &[i32] = EXPECTED
            .iter()
            .find(|(p, _, _)| text.starts_with(p))
            .map(|(_, c, _)| *c)
            .unwrap_or(&[0]);
        let (args, stdout_to) = env.substitute(&text);
        let o = Command::new(assert_cmd::cargo::cargo_bin("blyss-evidence"))
            .args(&args)
            .current_dir(env.dir.path())
            .env("XDG_CONFIG_HOME", env.config())
            .env("HOME", env.dir.path())
            .output()
            .unwrap();
        ran += 1;
        if let Some(f) = stdout_to {
            std::fs::write(env.dir.path().join(f), &o.stdout).unwrap();
        }
        let code = o.status.code().unwrap_or(-1);
        eprintln!("ran ({}), exit {code}: {}", d.origin, d.text);
        if code == 1 {
            for l in String::from_utf8_lossy(&o.stdout).lines() {
                if l.starts_with("❌") || l.starts_with("verdict:") || l.starts_with("result:") {
                    eprintln!("    {l}");
                }
            }
        }
        if !expected.contains(&code) {
            failures.push(format!(
                "{}: `{}` exited {code}, expected {expected:?}\n  ran: {args:?}\n  stderr: {}",
                d.origin,
                d.text,
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} documented commands misbehave:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn comment_stripping_and_word_splitting_follow_the_shell() {
    assert_eq!(strip_comment("a b   # c"), "a b");
    assert_eq!(strip_comment("a '#b' \"#c\""), "a '#b' \"#c\"");
    assert_eq!(
        words(r#"x --append 'console=ttyS0 a' --b "c d""#),
        vec!["x", "--append", "console=ttyS0 a", "--b", "c d"]
    );
    let c = commands_in(
        &[
            "  blyss-evidence a \\",
            "      --b c   # note",
            "# skip",
            "echo no",
        ],
        "t",
    );
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].text, "blyss-evidence a --b c");
}

#[test]
#[should_panic(expected = "undefined shell variable")]
fn a_documented_command_with_a_shell_variable_is_refused() {
    words("blyss-evidence measure --append \"$CMDLINE\"");
}
