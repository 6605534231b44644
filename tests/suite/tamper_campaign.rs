//! Tamper campaign (issue 10, item 2): at least 10 000 seeded random
//! mutations of bundles that audit as PASS, none of which may audit as PASS
//! or panic — unless the mutated bytes are in the documented list of
//! tamper-tolerant (unsigned, informational) fields, `protocol/checks.md`
//! § "tamper-tolerant fields", which this test enforces in both directions:
//! every tolerated mutant must match a listed rule and leave every check
//! result byte-identical to the unmutated audit (except the detail keys the
//! rule names), and every rule the document lists must be one enforced here.
//!
//! Bases:
//! * the real Blyss bundles under `--scope attestation` (2024-01 with
//!   protocol v0.0.1, 2023-12 with v0.0.1-test, production trust, fixture
//!   signer pinned), and the real Tinfoil bundle (protocol tinfoil, judged at
//!   its declared capture time);
//! * (feature `collect`) a full synthetic bundle under its test trust set,
//!   full scope, protocol v0.0.1 with image evidence *required*: collected
//!   once per run, in-process, from the loopback test world
//!   (tests/suite/common/world.rs: enclave TLS capture with a test-CA chain and
//!   embedded SCTs, the test CT logs' proofs, the synthetic Genoa platform's
//!   KDS chain/CRL/VCEK) plus the in-process mock registry
//!   (tests/suite/common/registry.rs) serving three TEST-ONLY images under the
//!   attested repositories, and the real OVMF image
//!   (scripts/fetch-firmware.sh; the test fails if it cannot be had). The
//!   report binds the enclave certificate and carries the real January
//!   command line with the three image digests replaced by the test images'
//!   (MEASUREMENT recomputed by our engine). Building it in-process is the
//!   cheapest honest choice: a committed fixture could not hold the
//!   third-party firmware, and the world's servers are already what the
//!   collect end-to-end tests use. The mock registry rather than Debian's
//!   docker-registry: the bundle members are the same (the collector writes
//!   them), and the campaign needs no external binary. Its bytes are the
//!   same from run to run except the loopback ports and collection times, so
//!   its mutations are deterministic in kind and member, not in every
//!   offset. It is sealed with the fixture collector key, like the others.
//!
//! Mutation kinds:
//! * `flip` — XOR of one byte of an evidence member with a random non-zero
//!   mask, re-sealed with the fixture collector key (the envelope is valid,
//!   only the evidence is wrong);
//! * `truncate` — an evidence member cut short, re-sealed;
//! * `insert` — 1..16 random bytes inserted into an evidence member, re-sealed;
//! * `swap` — an evidence member replaced by the same member of another base
//!   bundle, re-sealed (every member, both ways, between the real bundles and
//!   between each of them and the synthetic one);
//! * `swap-sibling` — two members of the same directory of the synthetic
//!   bundle exchanged, re-sealed (every pair);
//! * `unsealed` — a flip in an evidence member *without* re-sealing;
//! * `zip-flip`, `zip-truncate` — damage to the zip file itself. No rule
//!   tolerates these since issue 13: the reader admits exactly one byte
//!   layout, so every container mutation must be refused (or fail), even
//!   one that changes no entry name or content.
//!
//! The PRNG is a fixed-seed splitmix64, one stream per mutation number, so
//! every run mutates the same bytes whatever the thread count.
//! `TAMPER_MUTATIONS=N` sets the total (default 10 000): the synthetic base
//! gets N/25 of it (each of its audits hashes, measures and re-compresses a
//! 4 MiB firmware image, ~10x the cost of a real-bundle audit), the real
//! bundles the rest (all of it without the `collect` feature). Counts per
//! kind and member and per outcome (audit FAIL, bundle refused = could not
//! audit, tolerated by rule, panicked) are printed (`cargo test --test
//! suite tamper_campaign:: -- --nocapture`). A failure prints the mutation number,
//! base, kind, member and offset needed to reproduce it.

#[cfg(feature = "collect")]
use crate::common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, SignerPin, Verdict};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use time::OffsetDateTime;

const FIXTURE_FP: &str = "b244c7ca5b5ba3d7508a0515877b8ff65f6c72f9c04336d890f95c62b7325729";
const FIXTURE_KEY: &str = include_str!("../../fixtures/keys/fixture-collector.key");
const CHECKS_MD: &str = include_str!("../../protocol/checks.md");
/// 2025-11-29T00:00:00Z: the audit clock (evaluation uses the bundle's time).
const AUDIT_TIME: i64 = 1_764_374_400;
const SEED: u64 = 0x7a3d_2024_0115_b1e5;

// ---------------------------------------------------------------- PRNG

/// splitmix64: tiny, deterministic, good enough to pick offsets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn byte_nonzero(&mut self) -> u8 {
        1 + self.below(255) as u8
    }
}

// ---------------------------------------------------------------- bases

/// A bundle that audits as PASS, with everything needed to re-seal and
/// re-audit a mutated copy of it.
struct Base {
    name: &'static str,
    zip: Vec<u8>,
    bundle: Bundle,
    protocol: Protocol,
    trust: TrustSet,
    options: AuditOptions,
    /// Check results of the unmutated audit.
    baseline: Vec<CheckResult>,
}

fn audit_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(AUDIT_TIME).unwrap()
}

fn attestation_options() -> AuditOptions {
    AuditOptions {
        scope: Scope::Attestation,
        signer_pin: Some(SignerPin::Fingerprint(FIXTURE_FP.into())),
        ..Default::default()
    }
}

impl Base {
    fn new(
        name: &'static str,
        zip: Vec<u8>,
        protocol: &str,
        trust: TrustSet,
        options: AuditOptions,
    ) -> Base {
        let bundle = Bundle::from_bytes(&zip, name).unwrap();
        let protocol = Protocol::load(protocol).unwrap();
        let report = audit(&bundle, &protocol, &trust, &options, audit_time());
        assert_eq!(
            report.verdict.status,
            Verdict::Pass,
            "base {name} must audit as PASS before it is mutated: failed {:?}",
            report.verdict.failed_required
        );
        Base {
            name,
            zip,
            bundle,
            protocol,
            trust,
            options,
            baseline: report.checks,
        }
    }

    /// The full synthetic bundle (see the module doc): collected in-process
    /// from the loopback test world with TLS capture, CT, registry evidence
    /// for the three attested images and the real firmware image, sealed with
    /// the fixture collector key, audited under the world's test trust set
    /// (full scope, protocol v0.0.1, fixture signer pinned).
    #[cfg(feature = "collect")]
    fn synthetic() -> Base {
        let (zip, trust) = synthetic::bundle();
        Base::new(
            "synthetic-full",
            zip,
            "v0.0.1",
            trust,
            AuditOptions {
                signer_pin: Some(SignerPin::Fingerprint(FIXTURE_FP.into())),
                ..Default::default()
            },
        )
    }

    fn real() -> Vec<Base> {
        vec![
            Base::new(
                "blyss-2024-01",
                include_bytes!("../../fixtures/bundles/blyss-2024-01.zip").to_vec(),
                "v0.0.1",
                TrustSet::production(),
                attestation_options(),
            ),
            Base::new(
                "blyss-2023-12",
                include_bytes!("../../fixtures/bundles/blyss-2023-12.zip").to_vec(),
                "v0.0.1-test",
                TrustSet::production(),
                attestation_options(),
            ),
            // The real Tinfoil bundle (issue 17): SNP report, VCEK, enclave
            // certificate and Sigstore release in one JSON member, judged
            // at its declared capture time.
            Base::new(
                "tinfoil-2026-01",
                include_bytes!("../../fixtures/bundles/tinfoil-inference-2026-01.zip").to_vec(),
                "tinfoil",
                TrustSet::production(),
                attestation_options(),
            ),
        ]
    }

    /// Evidence members (full zip paths), sorted.
    fn member_paths(&self) -> Vec<String> {
        self.bundle.members().keys().cloned().collect()
    }

    /// Seals `members` exactly as the collector sealed the base: same
    /// statement (target, protocol, times, sources, warnings), new digests.
    fn reseal(&self, members: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
        let pred = &self.bundle.statement.predicate;
        let t = |s: &str| blyss_evidence::util::parse_time(s).unwrap();
        let mut b = BundleBuilder::new(&pred.target, &pred.protocol, t(&pred.started_at));
        for (path, bytes) in members {
            let rec = pred.members.iter().find(|m| &m.path == path).unwrap();
            let rel = path.strip_prefix("evidence/").unwrap();
            let src = Source {
                origin: rec.source.clone(),
                http_status: rec.http_status,
                fetched_at: t(&rec.fetched_at),
            };
            b.add(rel, bytes.clone(), src).unwrap();
        }
        for w in &pred.warnings {
            b.warn(w.clone());
        }
        // Statement v2 fields, carried over as collected.
        b.declared_observed_at = pred.declared_observed_at.as_deref().map(t);
        b.redirects = pred.redirects.clone();
        b.document_connection = pred.document_connection.clone();
        b.unsafe_options = pred.unsafe_options.clone();
        let key = keys::parse_private(FIXTURE_KEY, "fixture-collector.key").unwrap();
        b.seal(t(&pred.finished_at), &key).unwrap()
    }
}

// ---------------------------------------------------------------- synthetic base

#[cfg(feature = "collect")]
mod synthetic {
    use std::collections::BTreeMap;

    use super::common::registry::{self, Flavour, MockConfig, MockRegistry, TestImage};
    use super::common::{measure, world};
    use blyss_evidence::bundle::keys;
    use blyss_evidence::evidence::amd::Product;
    use blyss_evidence::evidence::attestation::AttestationDocument;
    use blyss_evidence::trust::TrustSet;

    /// Image digests of the real January 2024 command line, in the order
    /// shim, UI, model server.
    const JAN_DIGESTS: [&str; 3] = [
        "6652a8cc8a752eb9bc2d076daa6c346ca156c7b5bfbcf7c5021c9fd7bbc238bf",
        "ef8f9507fa6bd8db41c2f87846d224c5618e87dd8fdff7e3ab50c435d2e798fb",
        "4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f",
    ];

    /// The three attested images (repository, TEST-ONLY image), same order:
    /// an OCI single manifest, a Docker manifest list and an OCI index.
    fn images() -> Vec<(&'static str, TestImage)> {
        vec![
            (
                "blintzbase/shim",
                registry::single(Flavour::Oci, "linux", "amd64", "tamper-shim"),
            ),
            (
                "blintzbase/chatui",
                registry::index(
                    Flavour::Docker,
                    &[("linux", "amd64"), ("linux", "arm64")],
                    "tamper-ui",
                ),
            ),
            (
                "vllm/vllm-openai",
                registry::index(
                    Flavour::Oci,
                    &[("linux", "arm64"), ("linux", "amd64")],
                    "tamper-vllm",
                ),
            ),
        ]
    }

    /// The full synthetic bundle with the world's test trust set, collected
    /// once per test process.
    pub fn bundle() -> (Vec<u8>, TrustSet) {
        static B: std::sync::OnceLock<(Vec<u8>, TrustSet)> = std::sync::OnceLock::new();
        B.get_or_init(collect).clone()
    }

    /// Collects the full synthetic bundle. The servers stop when this
    /// returns: the bundle is self-contained and the audit is offline.
    fn collect() -> (Vec<u8>, TrustSet) {
        let w = world::World::start();
        let imgs = images();
        let mut routes = BTreeMap::new();
        for (repo, img) in &imgs {
            routes.extend(MockRegistry::routes_for(repo, img));
        }
        let reg = MockRegistry::start(routes, MockConfig::default());

        // The real January command line, its three image digests replaced
        // by the test images' (the dm-verity root, security flag and layout
        // the protocol pins stay the real ones).
        let real = AttestationDocument::parse_json(world::BLYSS_DOC_2024).unwrap();
        let launch = real.launch.clone().unwrap();
        let mut cli = launch.kernel_cli.clone();
        for (old, (_, img)) in JAN_DIGESTS.iter().zip(&imgs) {
            assert!(cli.contains(old), "{old}");
            cli = cli.replace(old, img.digest().trim_start_matches("sha256:"));
        }

        // A Genoa report from the synthetic platform bound to the enclave
        // certificate, MEASUREMENT computed by our engine for this command
        // line (as World::serve_synthetic does for the real one).
        let product = Product::Genoa;
        let p = world::platform();
        let cert = w.enclave_cert.clone();
        let mut report = p.report_template(product);
        report[0x50..0x70].copy_from_slice(&cert.sha256());
        report[0x90..0xC0].copy_from_slice(&world::expected_measurement(
            "v0.0.1",
            &cli,
            launch.num_vcpus,
        ));
        p.sign(product, &mut report);
        let t = p.product(product);
        let doc = world::document_json(
            &report,
            &t.vcek_der,
            Some((&cli, launch.num_vcpus)),
            None,
            Some(cert.sha256_hex()),
        );
        let crl = std::fs::read(p.dir.join("test-genoa-crl.der")).unwrap();
        let kds = world::kds_content_for(
            &doc,
            "Genoa",
            world::pem_chain(&[&t.ask_der, &t.ark_der]),
            crl,
            t.vcek_der.clone(),
        );
        w.serve_document(doc);
        w.serve_kds(&kds, &t.ark_der, &t.ask_der);

        let trust = world::trust(&w);
        let mut o = world::options(&w, "v0.0.1");
        o.images = true;
        o.registry_mirrors = vec![("docker.io".into(), reg.url.clone())];
        o.firmware = vec![measure::firmware_path().display().to_string()];
        let c = blyss_evidence::collect::collect(&o, &trust).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let key = keys::parse_private(super::FIXTURE_KEY, "fixture-collector.key").unwrap();
        let zip = c.builder.seal(blyss_evidence::util::now(), &key).unwrap();
        (zip, trust)
    }
}

// ---------------------------------------------------------------- outcomes

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// The bundle could not be read (exit 2 in the CLI).
    Rejected,
    /// The audit ran and failed (exit 1).
    Fail,
    /// The audit passed, and the mutation is covered by a tolerance rule.
    Tolerated,
    /// Reading or auditing panicked (always a finding).
    Panicked,
}

/// What auditing a mutant gave.
enum Audited {
    /// The bundle could not be read.
    Rejected,
    /// The audit ran and did not pass.
    Failed,
    /// The audit passed, with these check results.
    Passed(Vec<CheckResult>),
}

/// Audits mutated zip bytes against a base's protocol, trust and options.
/// `Err` carries a panic message.
fn audit_zip(base: &Base, zip: &[u8]) -> Result<Audited, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let Ok(b) = Bundle::from_bytes(zip, base.name) else {
            return Audited::Rejected;
        };
        let r = audit(&b, &base.protocol, &base.trust, &base.options, audit_time());
        if r.verdict.status == Verdict::Pass {
            Audited::Passed(r.checks)
        } else {
            Audited::Failed
        }
    }))
    .map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// All entries of a zip (names and contents), or `None` if unreadable.
fn zip_entries(zip: &[u8]) -> Option<BTreeMap<String, Vec<u8>>> {
    let members = blyss_evidence::bundle::container::read(zip).ok()?;
    Some(members.into_iter().map(|m| (m.name, m.data)).collect())
}

// ---------------------------------------------------------------- JSON loci

/// What a byte of a JSON document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Insignificant whitespace between tokens.
    Whitespace,
    /// `{ } [ ] : ,`
    Punct,
    /// An object key, quotes included.
    Key,
    /// A string value, quotes included.
    Str,
    /// A number, `true`, `false` or `null`.
    Scalar,
}

/// Where a byte sits: class and the path of the value it belongs to, with
/// array indices written `[*]` (`gpu_attestation.gpus[*].nonce`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Locus {
    class: Class,
    path: String,
}

/// Byte spans of a JSON document, each with its locus, in order.
fn json_loci(b: &[u8]) -> Vec<(usize, usize, Locus)> {
    struct P<'a> {
        b: &'a [u8],
        i: usize,
        out: Vec<(usize, usize, Locus)>,
    }
    impl P<'_> {
        fn push(&mut self, start: usize, class: Class, path: &str) {
            self.out.push((
                start,
                self.i,
                Locus {
                    class,
                    path: path.to_string(),
                },
            ));
        }
        fn ws(&mut self, path: &str) {
            let s = self.i;
            while self.i < self.b.len() && b" \t\r\n".contains(&self.b[self.i]) {
                self.i += 1;
            }
            if self.i > s {
                self.push(s, Class::Whitespace, path);
            }
        }
        fn punct(&mut self, path: &str) {
            let s = self.i;
            self.i += 1;
            self.push(s, Class::Punct, path);
        }
        fn string(&mut self) -> String {
            let s = self.i;
            self.i += 1;
            while self.b[self.i] != b'"' {
                if self.b[self.i] == b'\\' {
                    self.i += 1;
                }
                self.i += 1;
            }
            self.i += 1;
            serde_json::from_slice(&self.b[s..self.i]).unwrap()
        }
        fn value(&mut self, path: &str) {
            self.ws(path);
            match self.b[self.i] {
                b'{' => {
                    self.punct(path);
                    loop {
                        self.ws(path);
                        if self.b[self.i] == b'}' {
                            self.punct(path);
                            break;
                        }
                        let s = self.i;
                        let key = self.string();
                        let child = if path.is_empty() {
                            key
                        } else {
                            format!("{path}.{key}")
                        };
                        self.push(s, Class::Key, &child);
                        self.ws(path);
                        self.punct(path); // :
                        self.value(&child);
                        self.ws(path);
                        if self.b[self.i] == b',' {
                            self.punct(path);
                        }
                    }
                }
                b'[' => {
                    self.punct(path);
                    let child = format!("{path}[*]");
                    loop {
                        self.ws(path);
                        if self.b[self.i] == b']' {
                            self.punct(path);
                            break;
                        }
                        self.value(&child);
                        self.ws(path);
                        if self.b[self.i] == b',' {
                            self.punct(path);
                        }
                    }
                }
                b'"' => {
                    let s = self.i;
                    self.string();
                    self.push(s, Class::Str, path);
                }
                _ => {
                    let s = self.i;
                    while self.i < self.b.len() && !b",]} \t\r\n".contains(&self.b[self.i]) {
                        self.i += 1;
                    }
                    self.push(s, Class::Scalar, path);
                }
            }
        }
    }
    let mut p = P {
        b,
        i: 0,
        out: Vec::new(),
    };
    p.value("");
    p.ws("");
    assert_eq!(p.i, b.len(), "locator did not consume the whole document");
    p.out
}

fn locus_at(loci: &[(usize, usize, Locus)], pos: usize) -> Option<&Locus> {
    let k = loci.partition_point(|(_, end, _)| *end <= pos);
    loci.get(k).filter(|(s, _, _)| *s <= pos).map(|(_, _, l)| l)
}

// ---------------------------------------------------------------- tolerance

/// A mutation as the tolerance rules see it.
struct Mutant<'a> {
    kind: &'static str,
    member: Option<&'a str>,
    /// For `flip`: offset, old and new byte, and the JSON locus.
    flip: Option<(usize, u8, u8)>,
    locus: Option<&'a Locus>,
    /// For `truncate`: the member is JSON and only JSON whitespace was cut.
    cut_whitespace: bool,
}

/// A documented tamper-tolerant field: `id` must appear in
/// `protocol/checks.md` under `## tamper-tolerant fields`.
struct Rule {
    id: &'static str,
    applies: fn(&Mutant) -> bool,
    /// Detail keys of check results that show the mutated bytes (as what
    /// the evidence says); everything else must be byte-identical.
    details: &'static [&'static str],
}

/// Per-image record fields that only say where bytes came from and what
/// happened during collection (src/evidence/oci.rs `ImageRecord`).
const IMAGE_RECORD_PROVENANCE: &[&str] = &[
    "registry",
    "manifest.url",
    "child.url",
    "config.url",
    "manifest.content_type",
    "child.content_type",
    "config.content_type",
    "errors[*]",
];

const RULES: &[Rule] = &[
    Rule {
        // JSON whitespace between tokens of a JSON evidence member, turned
        // into other JSON whitespace or cut from the end: same document,
        // same parsed values.
        id: "json-insignificant-whitespace",
        applies: |m| {
            (m.kind == "flip"
                && matches!(m.locus, Some(l) if l.class == Class::Whitespace)
                && matches!(m.flip, Some((_, _, new)) if b" \t\r\n".contains(&new)))
                || (m.kind == "truncate" && m.cut_whitespace)
        },
        details: &[],
    },
    Rule {
        // Provenance strings of a per-image record (registry, URLs, content
        // types, collection errors): informational, shown as the `registry`
        // and `collection_errors` details; never used to verify.
        id: "image-record-provenance",
        applies: |m| {
            m.kind == "flip"
                && m.member
                    .is_some_and(|p| p.starts_with("evidence/images/refs/"))
                && matches!(m.locus, Some(l) if l.class == Class::Str
                    && IMAGE_RECORD_PROVENANCE.contains(&l.path.as_str()))
        },
        details: &["registry", "collection_errors"],
    },
    Rule {
        // The unsigned `gpu_info_obj` of a GPU entry: the UUID (shown as
        // `unsigned_gpu_uuid`) and the architecture name are informational;
        // the VBIOS version is compared to the signed one ignoring case.
        // (The driver and VBIOS versions must not contradict the signed
        // report: any other change there fails `gpu.versions`.)
        id: "gpu-info-unsigned",
        applies: |m| {
            let Some(l) = m.locus else { return false };
            let Some((_, old, new)) = m.flip else {
                return false;
            };
            m.kind == "flip"
                && m.member == Some("evidence/attestation.json")
                && l.class == Class::Str
                && match l.path.as_str() {
                    "gpu_attestation.gpus[*].gpu_info_obj.uuid"
                    | "gpu_attestation.gpus[*].gpu_info_obj.architecture" => true,
                    "gpu_attestation.gpus[*].gpu_info_obj.vbios_version" => {
                        old.eq_ignore_ascii_case(&new)
                    }
                    _ => false,
                }
        },
        details: &["unsigned_gpu_uuid"],
    },
    Rule {
        // The `domain` a Tinfoil bundle says it was served for: no
        // signature covers it; shown as `served_domain`, used by no rule.
        id: "tinfoil-domain",
        applies: |m| {
            m.kind == "flip"
                && m.member == Some(TINFOIL_MEMBER)
                && matches!(m.locus, Some(l) if l.class == Class::Str && l.path == "domain")
        },
        details: &["served_domain"],
    },
    Rule {
        // The bundled enclave certificate outside its key: only the sha256
        // of its SubjectPublicKeyInfo is bound (REPORT_DATA[0..32]); a flip
        // that changes the key, or makes the certificate unreadable, fails
        // tls.binding. The other bytes are authenticated by nothing in an
        // attestation-scope audit (no chain or CT is judged), and no result
        // shows them.
        id: "tinfoil-enclave-cert-outside-key",
        applies: |m| {
            m.kind == "flip"
                && m.member == Some(TINFOIL_MEMBER)
                && matches!(m.locus, Some(l) if l.class == Class::Str && l.path == "enclaveCert")
        },
        details: &[],
    },
];

const TINFOIL_MEMBER: &str = "evidence/tinfoil/attestation-bundle.json";

fn tolerance(m: &Mutant) -> Option<&'static Rule> {
    RULES.iter().find(|r| (r.applies)(m))
}

/// Check results without the detail keys a rule lets differ.
fn without_details(checks: &[CheckResult], keys: &[&str]) -> Vec<CheckResult> {
    checks
        .iter()
        .cloned()
        .map(|mut c| {
            c.details.retain(|k, _| !keys.contains(&k.as_str()));
            c
        })
        .collect()
}

// ---------------------------------------------------------------- campaign

#[derive(Default)]
struct Tally {
    /// (kind, member) -> outcome -> count
    counts: BTreeMap<(String, String), BTreeMap<Outcome, usize>>,
    /// rule id -> count
    tolerated: BTreeMap<&'static str, usize>,
    findings: Vec<String>,
    panics: Vec<String>,
    total: usize,
}

impl Tally {
    fn add(&mut self, kind: &str, member: &str, o: Outcome) {
        *self
            .counts
            .entry((kind.to_string(), member.to_string()))
            .or_default()
            .entry(o)
            .or_default() += 1;
        self.total += 1;
    }

    fn print(&self, title: &str) {
        fn row(label: &str, o: &BTreeMap<Outcome, usize>) {
            let g = |x| o.get(&x).copied().unwrap_or(0);
            println!(
                "{:>7} {:>8} {:>9} {:>8}  {label}",
                g(Outcome::Fail),
                g(Outcome::Rejected),
                g(Outcome::Tolerated),
                g(Outcome::Panicked),
            );
        }
        let header = || {
            println!(
                "{:>7} {:>8} {:>9} {:>8}  what",
                "failed", "rejected", "tolerated", "panicked"
            )
        };
        println!("tamper campaign {title}: {} mutations", self.total);
        println!("failed = audit verdict FAIL (exit 1); rejected = bundle refused, could not audit (exit 2)");
        println!("-- per kind and member");
        header();
        let mut per_kind: BTreeMap<&str, BTreeMap<Outcome, usize>> = BTreeMap::new();
        let mut all: BTreeMap<Outcome, usize> = BTreeMap::new();
        for ((k, m), o) in &self.counts {
            row(&format!("{k} {m}"), o);
            for (x, n) in o {
                *per_kind.entry(k).or_default().entry(*x).or_default() += n;
                *all.entry(*x).or_default() += n;
            }
        }
        println!("-- per kind");
        header();
        for (k, o) in &per_kind {
            row(k, o);
        }
        row("all kinds", &all);
        for (r, n) in &self.tolerated {
            println!("tolerated by {r}: {n}");
        }
    }
}

/// Runs one mutated zip and records its outcome; a PASS must be tolerated
/// by a rule and leave every check result unchanged.
fn judge(t: &mut Tally, base: &Base, zip: &[u8], m: &Mutant, what: &str) {
    let member = m.member.unwrap_or("(zip)");
    match audit_zip(base, zip) {
        Err(msg) => {
            t.panics.push(format!("{what}: panic: {msg}"));
            t.add(m.kind, member, Outcome::Panicked);
        }
        Ok(Audited::Rejected) => t.add(m.kind, member, Outcome::Rejected),
        Ok(Audited::Failed) => t.add(m.kind, member, Outcome::Fail),
        Ok(Audited::Passed(checks)) => {
            match tolerance(m) {
                Some(rule)
                    if without_details(&checks, rule.details)
                        == without_details(&base.baseline, rule.details) =>
                {
                    *t.tolerated.entry(rule.id).or_default() += 1;
                }
                Some(rule) => t.findings.push(format!(
                    "{what}: PASS, tolerated by {}, but the check results changed",
                    rule.id
                )),
                None => t.findings.push(format!(
                    "{what}: audits as PASS{}",
                    m.locus
                        .map(|l| format!(" (JSON {:?} at {})", l.class, l.path))
                        .unwrap_or_default()
                )),
            }
            t.add(m.kind, member, Outcome::Tolerated);
        }
    }
}

type Loci = BTreeMap<String, Vec<(usize, usize, Locus)>>;

impl Tally {
    fn merge(&mut self, o: Tally) {
        for (k, m) in o.counts {
            let e = self.counts.entry(k).or_default();
            for (x, n) in m {
                *e.entry(x).or_default() += n;
            }
        }
        for (r, n) in o.tolerated {
            *self.tolerated.entry(r).or_default() += n;
        }
        self.findings.extend(o.findings);
        self.panics.extend(o.panics);
        self.total += o.total;
    }
}

/// Every member of every target replaced by the same-path member of every
/// other donor (deterministic).
fn swaps(targets: &[Base], donors: &[Base], t: &mut Tally) {
    for base in targets {
        for other in donors {
            if std::ptr::eq(base, other) {
                continue;
            }
            for path in base.member_paths() {
                let Some(theirs) = other.bundle.member(&path) else {
                    continue;
                };
                if theirs == base.bundle.member(&path).unwrap() {
                    continue;
                }
                let mut members = base.bundle.members().clone();
                members.insert(path.clone(), theirs.to_vec());
                let zip = base.reseal(&members);
                let m = Mutant {
                    kind: "swap",
                    member: Some(&path),
                    flip: None,
                    locus: None,
                    cut_whitespace: false,
                };
                let what = format!("swap {path} of {} into {}", other.name, base.name);
                judge(t, base, &zip, &m, &what);
            }
        }
    }
}

/// Every pair of different sibling members of a base (same directory:
/// the two TLS certificates, image blobs, one CT log's responses, the AMD
/// files) exchanged, re-sealed (deterministic).
#[cfg(feature = "collect")]
fn sibling_swaps(base: &Base, t: &mut Tally) {
    let members = base.bundle.members();
    let dir = |p: &str| p.rsplit_once('/').map(|(d, _)| d.to_string());
    for (a, da) in members {
        for (b, db) in members.range::<String, _>((
            std::ops::Bound::Excluded(a.clone()),
            std::ops::Bound::Unbounded,
        )) {
            if dir(a) != dir(b) || da == db {
                continue;
            }
            let mut m = members.clone();
            m.insert(a.clone(), db.clone());
            m.insert(b.clone(), da.clone());
            let zip = base.reseal(&m);
            let mutant = Mutant {
                kind: "swap-sibling",
                member: Some(a),
                flip: None,
                locus: None,
                cut_whitespace: false,
            };
            let what = format!("swap-sibling {a} <-> {b} in {}", base.name);
            judge(t, base, &zip, &mutant, &what);
        }
    }
}

const KINDS: &[(&str, usize)] = &[
    ("flip", 70),
    ("truncate", 6),
    ("insert", 8),
    ("unsealed", 6),
    ("zip-flip", 7),
    ("zip-truncate", 3),
];

/// Random mutation number `no`: its own PRNG stream (so the campaign is the
/// same whatever the number of threads), base chosen round-robin.
fn mutate(bases: &[Base], loci: &[Loci], seed: u64, no: usize, t: &mut Tally) {
    let mut rng = Rng(seed ^ (no as u64).wrapping_mul(0xd134_2543_de82_ef95));
    let bi = no % bases.len();
    let base = &bases[bi];
    let weight: usize = KINDS.iter().map(|k| k.1).sum();
    let mut r = rng.below(weight);
    let kind = KINDS
        .iter()
        .find(|(_, w)| {
            if r < *w {
                true
            } else {
                r -= w;
                false
            }
        })
        .unwrap()
        .0;
    let paths = base.member_paths();
    let path = &paths[rng.below(paths.len())];
    let orig = base.bundle.member(path).unwrap();
    let plain = |kind| Mutant {
        kind,
        member: Some(path),
        flip: None,
        locus: None,
        cut_whitespace: false,
    };
    match kind {
        "flip" | "unsealed" => {
            let pos = rng.below(orig.len());
            let mask = rng.byte_nonzero();
            let mut members = base.bundle.members().clone();
            let d = members.get_mut(path).unwrap();
            let old = d[pos];
            d[pos] ^= mask;
            let new = d[pos];
            let zip = if kind == "flip" {
                base.reseal(&members)
            } else {
                let mut e = zip_entries(&base.zip).unwrap();
                e.insert(path.clone(), members[path].clone());
                let m: BTreeMap<String, &[u8]> =
                    e.iter().map(|(k, v)| (k.clone(), v.as_slice())).collect();
                blyss_evidence::bundle::write_zip(&m).unwrap()
            };
            let m = Mutant {
                flip: Some((pos, old, new)),
                locus: loci[bi].get(path).and_then(|l| locus_at(l, pos)),
                ..plain(kind)
            };
            let what = format!(
                "#{no} {kind} {}:{path} offset {pos} {old:#04x}->{new:#04x}",
                base.name
            );
            judge(t, base, &zip, &m, &what);
        }
        "truncate" => {
            let len = rng.below(orig.len());
            let mut members = base.bundle.members().clone();
            members.get_mut(path).unwrap().truncate(len);
            let zip = base.reseal(&members);
            let what = format!("#{no} truncate {}:{path} to {len}", base.name);
            let m = Mutant {
                cut_whitespace: loci[bi].contains_key(path)
                    && orig[len..].iter().all(|c| b" \t\r\n".contains(c)),
                ..plain(kind)
            };
            judge(t, base, &zip, &m, &what);
        }
        "insert" => {
            let pos = rng.below(orig.len() + 1);
            let k = 1 + rng.below(16);
            let ins: Vec<u8> = (0..k).map(|_| rng.next() as u8).collect();
            let mut members = base.bundle.members().clone();
            members
                .get_mut(path)
                .unwrap()
                .splice(pos..pos, ins.iter().copied());
            let zip = base.reseal(&members);
            let what = format!(
                "#{no} insert {}:{path} offset {pos} {}",
                base.name,
                hex::encode(&ins)
            );
            judge(t, base, &zip, &plain(kind), &what);
        }
        _ => {
            let mut zip = base.zip.clone();
            let desc = if kind == "zip-flip" {
                let pos = rng.below(zip.len());
                let mask = rng.byte_nonzero();
                zip[pos] ^= mask;
                format!("offset {pos} ^{mask:#04x}")
            } else {
                let len = rng.below(zip.len());
                zip.truncate(len);
                format!("to {len}")
            };
            // No tolerance: the container has one allowed byte layout, so
            // damage to it must be refused or fail, even where it changes
            // no entry name or content.
            let m = Mutant {
                member: None,
                ..plain(kind)
            };
            let what = format!("#{no} {kind} {} {desc}", base.name);
            judge(t, base, &zip, &m, &what);
        }
    }
}

/// Adds random mutations to `t` until it counts `n` mutations in total,
/// spread over the available cores.
fn campaign(bases: &[Base], n: usize, seed: u64, t: &mut Tally) {
    let loci: Vec<Loci> = bases
        .iter()
        .map(|b| {
            b.bundle
                .members()
                .iter()
                .filter(|(p, _)| p.ends_with(".json"))
                .map(|(p, d)| (p.clone(), json_loci(d)))
                .collect()
        })
        .collect();
    let random = n.saturating_sub(t.total);
    let threads = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let parts: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let loci = &loci;
                s.spawn(move || {
                    let mut t = Tally::default();
                    for no in (k..random).step_by(threads) {
                        mutate(bases, loci, seed, no, &mut t);
                    }
                    t
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for p in parts {
        t.merge(p);
    }
}

fn mutation_count() -> usize {
    std::env::var("TAMPER_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn assert_clean(t: &Tally) {
    assert!(
        t.panics.is_empty(),
        "{} mutation(s) panicked:\n{}",
        t.panics.len(),
        t.panics.join("\n")
    );
    assert!(
        t.findings.is_empty(),
        "{} mutation(s) audited as PASS without a documented tolerance:\n{}",
        t.findings.len(),
        t.findings
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Share of the total for the full synthetic base: its audits hash and
/// re-compress a 4 MiB firmware image each time, so it gets fewer mutations
/// than the real bundles (which take the rest of the total).
fn synthetic_count(total: usize) -> usize {
    if cfg!(feature = "collect") {
        total / SYNTHETIC_SHARE
    } else {
        0
    }
}
const SYNTHETIC_SHARE: usize = 25;

fn assert_every_kind_ran(t: &Tally) {
    for kind in [
        "flip",
        "truncate",
        "insert",
        "unsealed",
        "swap",
        "zip-flip",
        "zip-truncate",
    ] {
        assert!(
            t.counts.keys().any(|(k, _)| k == kind),
            "no {kind} mutation ran"
        );
    }
}

#[test]
fn no_mutation_of_the_real_blyss_and_tinfoil_bundles_audits_as_pass() {
    let bases = Base::real();
    let total = mutation_count();
    let n = total - synthetic_count(total);
    let mut t = Tally::default();
    swaps(&bases, &bases, &mut t);
    campaign(&bases, n, SEED, &mut t);
    t.print("(real Blyss and Tinfoil bundles, --scope attestation)");
    assert!(t.total >= n);
    assert_clean(&t);
    assert_every_kind_ran(&t);
}

#[cfg(feature = "collect")]
#[test]
fn no_mutation_of_the_full_synthetic_bundle_audits_as_pass() {
    let syn = [Base::synthetic()];
    let real = Base::real();
    let n = synthetic_count(mutation_count());
    let mut t = Tally::default();
    // Members swapped both ways between the synthetic and the real bundles.
    swaps(&syn, &real, &mut t);
    swaps(&real, &syn, &mut t);
    // And sibling members of the synthetic bundle exchanged.
    sibling_swaps(&syn[0], &mut t);
    campaign(&syn, n, SEED ^ 0x5717_4e71, &mut t);
    t.print("(full synthetic bundle, test trust set)");
    assert!(t.total >= n);
    assert_clean(&t);
    assert_every_kind_ran(&t);
}

#[test]
fn every_tolerance_rule_is_documented_in_checks_md() {
    let section = CHECKS_MD
        .split("\n## ")
        .find(|s| s.starts_with("tamper-tolerant fields"))
        .expect("protocol/checks.md has no `## tamper-tolerant fields` section");
    for r in RULES {
        assert!(
            section.contains(&format!("| `{}` |", r.id)),
            "rule {} is not documented under `## tamper-tolerant fields`",
            r.id
        );
    }
    // And the other way: every rule the document lists is enforced here.
    let documented: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    assert!(!documented.is_empty());
    for id in documented {
        assert!(
            RULES.iter().any(|r| r.id == id),
            "checks.md documents {id} but the campaign does not enforce it"
        );
    }
}

#[test]
fn json_locator_classifies_whitespace_keys_and_values() {
    let doc = br#"{ "a": [1, {"b": "x"}],
  "c": true }"#;
    let loci = json_loci(doc);
    let at = |i: usize| locus_at(&loci, i).unwrap().clone();
    assert_eq!(at(1).class, Class::Whitespace);
    assert_eq!((at(2).class, at(2).path.as_str()), (Class::Key, "a"));
    assert_eq!((at(8).class, at(8).path.as_str()), (Class::Scalar, "a[*]"));
    let x = doc.iter().position(|&c| c == b'x').unwrap();
    assert_eq!((at(x).class, at(x).path.as_str()), (Class::Str, "a[*].b"));
    let t = doc.iter().position(|&c| c == b't').unwrap();
    assert_eq!((at(t).class, at(t).path.as_str()), (Class::Scalar, "c"));
}

#[test]
fn resealing_an_unmutated_base_reproduces_it_byte_for_byte() {
    #[allow(unused_mut)]
    let mut bases = Base::real();
    #[cfg(feature = "collect")]
    bases.push(Base::synthetic());
    for b in bases {
        let again = b.reseal(b.bundle.members());
        assert_eq!(again, b.zip, "{}", b.name);
    }
}

#[test]
fn a_flip_in_the_signed_report_is_caught_by_the_campaign_judge() {
    // The judge itself: a mutation that must fail is counted as failed, not
    // as tolerated (guards against a judge that accepts everything).
    let bases = Base::real();
    let b = &bases[0];
    let mut members = b.bundle.members().clone();
    let d = members.get_mut("evidence/attestation.json").unwrap();
    // The first digit of "measurement": [30, …] — part of the signed report.
    let at = d
        .windows(16)
        .position(|w| w == b"\"measurement\": [")
        .unwrap()
        + 16;
    d[at] = if d[at] == b'9' { b'8' } else { b'9' };
    let zip = b.reseal(&members);
    let mut t = Tally::default();
    let m = Mutant {
        kind: "flip",
        member: Some("evidence/attestation.json"),
        flip: Some((at, 0, 0)),
        locus: None,
        cut_whitespace: false,
    };
    judge(&mut t, b, &zip, &m, "measurement digit");
    assert!(t.findings.is_empty(), "{:?}", t.findings);
    assert_eq!(
        t.counts[&("flip".into(), "evidence/attestation.json".into())]
            .get(&Outcome::Fail)
            .copied(),
        Some(1)
    );
}
