//! Checks of the `tls` family: `tls.binding` and `tls.chain` (issue 5).
//!
//! Evidence (written by `collect`; layout in `protocol/bundle-format.md`):
//! `evidence/tls/chain-NN.der` (the chain as presented, leaf first),
//! `evidence/tls/handshake.json` ([`HandshakeRecord`]) and, when a second
//! handshake presented another leaf, `evidence/tls/second/chain-NN.der`.
//!
//! * `tls.binding`: sha256(captured leaf DER) == `report_data[0..32]` ==
//!   the document's `cert_sha256_fingerprint`, `report_data[32..64]` zero
//!   (protocol `sections.tls.report_data_tail`), and a second handshake did
//!   not present another leaf. Without a captured handshake (offline
//!   import) it checks the document's own fields and says no handshake was
//!   captured: that is a pass only under `--scope attestation`.
//! * `tls.chain`: the captured chain builds to a TLS root of the trust set
//!   (never a certificate from the bundle) and the leaf is valid for the
//!   bundle's target host at the evaluation time (collection time), with
//!   the serverAuth purpose. rustls-webpki does the path building; its
//!   signature algorithms are RustCrypto adapters ([`ALGS`]).
//!   Not applicable under `--scope attestation` or when the protocol says
//!   so (`v0.0.1-test`: the enclave uses a self-signed test certificate).

use std::time::Duration;

use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, ServerName,
    SignatureVerificationAlgorithm, TrustAnchor, UnixTime,
};

use super::{CheckResult, Context, Scope};
use crate::evidence::layout;
use crate::protocol::{BindingForm, ChainRule, TailRule, TlsSection};

// The handshake records are the bundle's format, written by `collect` and
// read here: they live in `evidence::tls` (re-exported for callers of the
// old path).
pub use crate::evidence::tls::{
    ChainEntry, HandshakeRecord, SecondHandshakeRecord, Verification, HANDSHAKE_SCHEMA,
};

const BINDING: &str = "tls.binding";
const BINDING_TITLE: &str = "TLS certificate bound to the attestation report";
const TINFOIL_BINDING_SPEC: &str = "Tinfoil verifier: report_data[0..32] = sha256(TLS certificate SubjectPublicKeyInfo DER), report_data[32..64] = HPKE X25519 public key; blyss-evidence protocol/checks.md#tls";
const BINDING_SPEC: &str = "Blyss verifier: report_data[0..32] = sha256(TLS certificate DER) = cert_sha256_fingerprint; blyss-evidence protocol/checks.md#tls";
const CHAIN: &str = "tls.chain";
const CHAIN_TITLE: &str = "TLS certificate chain valid for the service";
const CHAIN_SPEC: &str = "RFC 5280 §6 path validation, RFC 6125 / RFC 9525 host name, CA/B Forum serverAuth; blyss-evidence protocol/checks.md#tls";

/// The captured handshake, read from the bundle.
struct Captured {
    rec: HandshakeRecord,
    /// Chain bytes in presented order.
    chain: Vec<Vec<u8>>,
}

/// Reads the capture; `Ok(None)` when no handshake was captured.
fn captured(ctx: &Context) -> Result<Option<Captured>, String> {
    let Some(bytes) = ctx.member(layout::TLS_HANDSHAKE) else {
        if ctx.members_under(layout::TLS_DIR).is_empty() {
            return Ok(None);
        }
        return Err(format!(
            "{} is missing but {} holds other members",
            layout::TLS_HANDSHAKE,
            layout::TLS_DIR
        ));
    };
    if bytes.len() > crate::evidence::tls::MAX_HANDSHAKE_BYTES {
        return Err(format!(
            "{}: {} bytes, over the cap of {} bytes",
            layout::TLS_HANDSHAKE,
            bytes.len(),
            crate::evidence::tls::MAX_HANDSHAKE_BYTES
        ));
    }
    let rec: HandshakeRecord =
        serde_json::from_slice(bytes).map_err(|e| format!("{}: {e}", layout::TLS_HANDSHAKE))?;
    if rec.schema != HANDSHAKE_SCHEMA {
        return Err(format!(
            "{}: schema {:?}, expected {HANDSHAKE_SCHEMA:?}",
            layout::TLS_HANDSHAKE,
            rec.schema
        ));
    }
    if rec.chain.is_empty() {
        return Err(format!("{}: empty chain", layout::TLS_HANDSHAKE));
    }
    let mut chain = Vec::new();
    for (i, e) in rec.chain.iter().enumerate() {
        let expected = format!("{}chain-{i:02}.der", layout::TLS_DIR);
        if e.member != expected {
            return Err(format!(
                "{}: chain[{i}] names {:?}, expected {expected:?}",
                layout::TLS_HANDSHAKE,
                e.member
            ));
        }
        let b = ctx
            .member(&e.member)
            .ok_or_else(|| format!("{} is listed but missing", e.member))?;
        let got = crate::util::sha256_hex(b);
        if !got.eq_ignore_ascii_case(&e.sha256) {
            return Err(format!(
                "{}: sha256 {got} but {} records {}",
                e.member,
                layout::TLS_HANDSHAKE,
                e.sha256
            ));
        }
        chain.push(b.to_vec());
    }
    // No stray chain members beyond the record.
    let listed = ctx
        .members_under(&format!("{}chain-", layout::TLS_DIR))
        .len();
    if listed != chain.len() {
        return Err(format!(
            "{} lists {} certificate(s) but the bundle holds {listed} {}chain-NN.der member(s)",
            layout::TLS_HANDSHAKE,
            chain.len(),
            layout::TLS_DIR
        ));
    }
    Ok(Some(Captured { rec, chain }))
}

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    let sec = ctx.protocol.sections.tls();
    if let Some(why) = sec.not_applicable.as_deref() {
        let why = if why.trim().is_empty() {
            "the protocol binds no TLS certificate"
        } else {
            why
        };
        let s = format!("protocol {}: {why}", ctx.protocol.id);
        return vec![
            CheckResult::not_applicable(BINDING, BINDING_TITLE, s.clone()).spec(BINDING_SPEC),
            CheckResult::not_applicable(CHAIN, CHAIN_TITLE, s).spec(CHAIN_SPEC),
        ];
    }
    let cap = captured(ctx);
    vec![binding(ctx, &sec, &cap), chain(ctx, &sec, &cap)]
}

/// The connection that actually delivered the attestation document
/// (statement v2 `document_connection`): its leaf must be the attested
/// certificate too, or the document may have come from elsewhere than the
/// handshakes that were compared (a rotating or split deployment).
fn document_connection(
    ctx: &Context,
    bound: &str,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let st = &ctx.bundle.statement;
    match &st.predicate.document_connection {
        Some(dc) => {
            let member_sha = dc.chain.first().and_then(|m| ctx.bundle.member_sha256(m));
            if member_sha != Some(dc.leaf_sha256.as_str()) {
                problems.push(format!(
                    "the statement's document_connection names leaf sha256 {} but its first chain member {} holds {}",
                    dc.leaf_sha256,
                    dc.chain.first().map(String::as_str).unwrap_or("(none)"),
                    member_sha.unwrap_or("nothing")
                ));
            } else if !dc.leaf_sha256.eq_ignore_ascii_case(bound) {
                problems.push(format!(
                    "the attestation document was delivered over a connection presenting another certificate (sha256 {}) than the attested one (report_data[0..32] {bound})",
                    dc.leaf_sha256
                ));
            } else {
                notes.push("the connection that delivered the document presented the attested certificate".into());
            }
        }
        None if st.version() == Some(1) => notes.push(
            "the connection that delivered the document was not recorded (statement v1)".into(),
        ),
        None => problems.push(
            "the statement records no document_connection although handshakes were captured: the certificate that delivered the document is unknown".into(),
        ),
    }
}

fn binding(ctx: &Context, sec: &TlsSection, cap: &Result<Option<Captured>, String>) -> CheckResult {
    if sec.binding == BindingForm::TinfoilSpki {
        return binding_tinfoil(ctx, sec, cap);
    }
    let fail = |s: String| CheckResult::fail(BINDING, BINDING_TITLE, s).spec(BINDING_SPEC);
    let doc = match ctx.doc {
        Ok(d) => d,
        Err(e) => return fail(format!("no usable attestation evidence: {e}")),
    };
    let rd = doc.report_data();
    let bound = hex::encode(&rd[..32]);
    let tail = &rd[32..];
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // The document's own fields.
    match &doc.cert_sha256_fingerprint {
        Some(fp) => {
            let ok = fp.len() == 64 && fp.chars().all(|c| c.is_ascii_hexdigit());
            if !ok {
                problems.push(format!(
                    "cert_sha256_fingerprint {fp:?} is not 64 hex digits"
                ));
            } else if !fp.eq_ignore_ascii_case(&bound) {
                problems.push(format!(
                    "cert_sha256_fingerprint {} differs from report_data[0..32] {}",
                    fp.to_ascii_lowercase(),
                    bound
                ));
            }
        }
        None => notes.push("the evidence has no cert_sha256_fingerprint field (raw report)".into()),
    }
    if sec.report_data_tail == TailRule::Zero && tail.iter().any(|b| *b != 0) {
        problems.push(format!(
            "report_data[32..64] is {}, expected 32 zero bytes",
            hex::encode(tail)
        ));
    }

    let mut r;
    match cap {
        Err(e) => {
            problems.push(format!("unusable TLS capture: {e}"));
            r = fail(problems.join("; "));
        }
        Ok(None) => {
            let summary = format!(
                "no TLS handshake was captured (offline import): only the document's own fields were checked{}",
                if problems.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", problems.join("; "))
                }
            );
            r = if !problems.is_empty() || ctx.scope() == Scope::Full {
                let s = if ctx.scope() == Scope::Full && problems.is_empty() {
                    format!(
                        "{summary}; the binding to a live certificate is required in scope full (missing {})",
                        layout::TLS_HANDSHAKE
                    )
                } else {
                    summary
                };
                fail(s)
            } else {
                // Only the document compared with itself: a warning, never
                // the green of an established binding (protocol/checks.md,
                // "Status rules").
                // What was NOT established comes first: summaries are cut
                // to a key finding in the Markdown and HTML tables.
                CheckResult::warn(BINDING, BINDING_TITLE,
                    "binding to the served certificate NOT established (no TLS handshake was captured: offline import); established only: cert_sha256_fingerprint = report_data[0..32] (the document agrees with itself)".to_string(),
                )
                .spec(BINDING_SPEC)
            };
            r = r.detail("handshake_captured", false);
        }
        Ok(Some(c)) => {
            let leaf = &c.chain[0];
            let leaf_sha = crate::util::sha256_hex(leaf);
            if leaf_sha != bound {
                problems.push(format!(
                    "the served certificate (sha256 {leaf_sha}) is not the attested one (report_data[0..32] {bound}): the service presented a certificate other than the one the enclave attested"
                ));
            }
            match &c.rec.second_handshake {
                Some(s) if s.outcome == "different-leaf" => problems.push(format!(
                    "a second handshake presented another certificate (sha256 {}): the binding cannot be established for the connection that served the document",
                    s.leaf_sha256.as_deref().unwrap_or("?")
                )),
                Some(s) if s.outcome == "failed" => notes.push(format!(
                    "the second handshake failed ({}); only the first was compared",
                    s.error.as_deref().unwrap_or("no reason recorded")
                )),
                Some(s) if s.outcome == "same-leaf" => {
                    if s.leaf_sha256.as_deref() != Some(leaf_sha.as_str()) {
                        problems.push(format!(
                            "{} says the second handshake presented the same leaf but records sha256 {}",
                            layout::TLS_HANDSHAKE,
                            s.leaf_sha256.as_deref().unwrap_or("(none)")
                        ));
                    } else {
                        notes.push("a second handshake presented the same certificate".into());
                    }
                }
                Some(s) => problems.push(format!(
                    "{}: unknown second handshake outcome {:?}",
                    layout::TLS_HANDSHAKE,
                    s.outcome
                )),
                None => notes.push("no second handshake was recorded".into()),
            }
            document_connection(ctx, &bound, &mut problems, &mut notes);
            r = if problems.is_empty() {
                CheckResult::pass(
                    BINDING,
                    BINDING_TITLE,
                    format!(
                        "sha256 of the served certificate = report_data[0..32]{} = {}",
                        if doc.cert_sha256_fingerprint.is_some() {
                            " = cert_sha256_fingerprint"
                        } else {
                            ""
                        },
                        crate::util::short_hex(&bound)
                    ),
                )
                .spec(BINDING_SPEC)
            } else {
                fail(problems.join("; "))
            };
            r = r
                .actual(leaf_sha.clone())
                .evidence(layout::TLS_HANDSHAKE)
                .evidence(c.rec.chain[0].member.clone())
                .detail("handshake_captured", true)
                .detail("served_leaf_sha256", leaf_sha)
                .detail("protocol_version", c.rec.protocol_version.clone())
                .detail("cipher_suite", c.rec.cipher_suite.clone());
        }
    }
    if !notes.is_empty() {
        r = r.detail("notes", notes.join("; "));
    }
    r.expected(bound.clone())
        .evidence(doc.source.clone())
        .detail("fact:tls.attested_cert_sha256", bound)
        .detail(
            "report_data_tail_rule",
            match sec.report_data_tail {
                TailRule::Zero => "zero",
                TailRule::Any => "any",
            },
        )
}

/// `tls.binding` in Tinfoil's form: REPORT_DATA[0..32] is the sha256 of a
/// certificate's SubjectPublicKeyInfo (so a renewed certificate with the
/// same key stays bound), REPORT_DATA[32..64] the enclave's HPKE X25519
/// key (shown as a fact; nothing in the evidence lets us judge it).
/// Without a captured handshake only the enclave certificate shipped in
/// the Tinfoil bundle is compared: that is the bundle agreeing with itself,
/// a warning under `--scope attestation` and a failure in scope full — never
/// the green of a binding to the certificate a client is served.
fn binding_tinfoil(
    ctx: &Context,
    sec: &TlsSection,
    cap: &Result<Option<Captured>, String>,
) -> CheckResult {
    let fail = |s: String| CheckResult::fail(BINDING, BINDING_TITLE, s).spec(TINFOIL_BINDING_SPEC);
    let doc = match ctx.doc {
        Ok(d) => d,
        Err(e) => return fail(format!("no usable attestation evidence: {e}")),
    };
    let rd = doc.report_data();
    let bound = hex::encode(&rd[..32]);
    let hpke = hex::encode(&rd[32..]);
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if sec.report_data_tail == TailRule::Zero && rd[32..].iter().any(|b| *b != 0) {
        problems.push(format!(
            "report_data[32..64] is {hpke}, expected 32 zero bytes"
        ));
    }
    // The enclave certificate the Tinfoil bundle carries.
    let bundled = ctx.member(layout::TINFOIL_BUNDLE).map(|b| {
        crate::evidence::tinfoil::TinfoilBundle::parse(b)
            .map_err(|e| e.to_string())
            .and_then(|t| t.enclave_spki_sha256())
            .map(hex::encode)
    });
    match &bundled {
        Some(Ok(h)) if *h == bound => notes.push(
            "sha256 of the bundled enclave certificate's SubjectPublicKeyInfo = report_data[0..32]"
                .into(),
        ),
        Some(Ok(h)) => problems.push(format!(
            "the enclave certificate in the Tinfoil bundle has SubjectPublicKeyInfo sha256 {h}, but report_data[0..32] is {bound}: the report does not bind that certificate's key"
        )),
        Some(Err(e)) => problems.push(format!(
            "{}: the enclave certificate cannot be read: {e}",
            layout::TINFOIL_BUNDLE
        )),
        None => notes.push(format!("no Tinfoil bundle ({})", layout::TINFOIL_BUNDLE)),
    }
    let mut r = match cap {
        Err(e) => {
            problems.push(format!("unusable TLS capture: {e}"));
            fail(problems.join("; "))
        }
        Ok(None) => {
            let r = if !problems.is_empty() {
                fail(format!(
                    "no TLS handshake was captured (offline import) and the bundle does not agree with itself: {}",
                    problems.join("; ")
                ))
            } else if bundled.is_none() {
                fail(format!(
                    "no TLS handshake was captured and there is no bundled enclave certificate: nothing binds report_data[0..32] {bound} to a key"
                ))
            } else if ctx.scope() == Scope::Full {
                fail(format!(
                    "binding to the served certificate NOT established: no TLS handshake was captured (missing {}), which scope full requires; established only: the bundled enclave certificate's key hash = report_data[0..32]",
                    layout::TLS_HANDSHAKE
                ))
            } else {
                // What was NOT established comes first (summaries are cut
                // to a key finding in the tables).
                CheckResult::warn(
                    BINDING,
                    BINDING_TITLE,
                    "binding to the served certificate NOT established (no TLS handshake was captured: offline import); established only: sha256 of the Tinfoil bundle's enclave certificate SubjectPublicKeyInfo = report_data[0..32] (verified against the certificate in the bundle, not a live handshake)",
                )
                .spec(TINFOIL_BINDING_SPEC)
            };
            r.detail("handshake_captured", false)
        }
        Ok(Some(c)) => {
            let leaf = &c.chain[0];
            let leaf_sha = crate::util::sha256_hex(leaf);
            match crate::evidence::tinfoil::spki_sha256(leaf).map(hex::encode) {
                Ok(h) if h == bound => {}
                Ok(h) => problems.push(format!(
                    "the served certificate's key (SubjectPublicKeyInfo sha256 {h}) is not the attested one (report_data[0..32] {bound})"
                )),
                Err(e) => problems.push(format!("the served certificate cannot be read: {e}")),
            }
            match &c.rec.second_handshake {
                Some(s) if s.outcome == "different-leaf" => problems.push(format!(
                    "a second handshake presented another certificate (sha256 {})",
                    s.leaf_sha256.as_deref().unwrap_or("?")
                )),
                Some(s) if s.outcome == "same-leaf" && s.leaf_sha256.as_deref() != Some(leaf_sha.as_str()) => {
                    problems.push(format!(
                        "{} says the second handshake presented the same leaf but records sha256 {}",
                        layout::TLS_HANDSHAKE,
                        s.leaf_sha256.as_deref().unwrap_or("(none)")
                    ))
                }
                Some(s) if s.outcome == "same-leaf" => {
                    notes.push("a second handshake presented the same certificate".into())
                }
                Some(s) if s.outcome == "failed" => notes.push(format!(
                    "the second handshake failed ({}); only the first was compared",
                    s.error.as_deref().unwrap_or("no reason recorded")
                )),
                Some(s) => problems.push(format!(
                    "{}: unknown second handshake outcome {:?}",
                    layout::TLS_HANDSHAKE,
                    s.outcome
                )),
                None => notes.push("no second handshake was recorded".into()),
            }
            // The document must have come over a connection presenting the
            // certificate just compared.
            document_connection(ctx, &leaf_sha, &mut problems, &mut notes);
            let r = if problems.is_empty() {
                CheckResult::pass(
                    BINDING,
                    BINDING_TITLE,
                    format!(
                        "sha256 of the served certificate's SubjectPublicKeyInfo = report_data[0..32] = {}",
                        crate::util::short_hex(&bound)
                    ),
                )
                .spec(TINFOIL_BINDING_SPEC)
            } else {
                fail(problems.join("; "))
            };
            r.evidence(layout::TLS_HANDSHAKE)
                .evidence(c.rec.chain[0].member.clone())
                .detail("handshake_captured", true)
                .detail("served_leaf_sha256", leaf_sha)
        }
    };
    if let Some(Ok(h)) = &bundled {
        r = r.actual(h.clone()).evidence(layout::TINFOIL_BUNDLE);
    }
    if !notes.is_empty() {
        r = r.detail("notes", notes.join("; "));
    }
    r.expected(bound.clone())
        .evidence(doc.source.clone())
        .detail("binding_form", "tinfoil-spki")
        .detail("fact:tls.attested_spki_sha256", bound)
        .detail("fact:tinfoil.hpke_public_key", hpke)
}

/// Host of the statement's target (`https://host[:port]`).
fn target_host(target: &str) -> Option<String> {
    let rest = target.strip_prefix("https://")?;
    let auth = rest.split('/').next()?;
    let host = if let Some(h) = auth.strip_prefix('[') {
        h.split(']').next()?.to_string()
    } else {
        auth.rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(auth)
            .to_string()
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn chain(ctx: &Context, sec: &TlsSection, cap: &Result<Option<Captured>, String>) -> CheckResult {
    let fail = |s: String| CheckResult::fail(CHAIN, CHAIN_TITLE, s).spec(CHAIN_SPEC);
    let na = |s: String| CheckResult::not_applicable(CHAIN, CHAIN_TITLE, s).spec(CHAIN_SPEC);
    if ctx.scope() == Scope::Attestation {
        return na("scope attestation: the TLS chain is not judged".into());
    }
    // Judge it even when not applicable, to show the outcome.
    let outcome = match cap {
        Err(e) => Err(format!("unusable TLS capture: {e}")),
        Ok(None) => Err(format!(
            "no TLS handshake was captured ({} missing)",
            layout::TLS_HANDSHAKE
        )),
        Ok(Some(c)) => validate(ctx, c),
    };
    if sec.chain == ChainRule::NotApplicable {
        let why = sec
            .chain_reason
            .clone()
            .unwrap_or_else(|| "the protocol does not require a publicly trusted chain".into());
        let shown = match &outcome {
            Ok(v) => format!("it would pass ({})", v.summary),
            Err(e) => format!("it would fail: {e}"),
        };
        return na(format!("protocol {}: {why}; {shown}", ctx.protocol.id));
    }
    match outcome {
        Ok(v) => {
            let mut r = CheckResult::pass(CHAIN, CHAIN_TITLE, v.summary)
                .spec(CHAIN_SPEC)
                .expected(format!(
                    "a chain to a TLS root of trust set {:?} valid for {} at {}",
                    ctx.trust.name,
                    v.host,
                    crate::util::fmt_time(ctx.eval_time)
                ))
                .actual(format!("anchor {}", v.anchor))
                .evidence(layout::TLS_HANDSHAKE);
            for m in v.members {
                r = r.evidence(m);
            }
            r.detail("anchor", v.anchor)
                .detail("leaf_subject", v.leaf_subject)
                .detail("fact:tls.host", v.host)
        }
        Err(e) => {
            let mut r = fail(e).expected(format!(
                "a chain to a TLS root of trust set {:?} valid for the target host at {}",
                ctx.trust.name,
                crate::util::fmt_time(ctx.eval_time)
            ));
            if let Ok(Some(c)) = cap {
                r = r.evidence(layout::TLS_HANDSHAKE);
                for e in &c.rec.chain {
                    r = r.evidence(e.member.clone());
                }
            }
            r
        }
    }
}

struct Valid {
    summary: String,
    host: String,
    anchor: String,
    leaf_subject: String,
    members: Vec<String>,
}

fn validate(ctx: &Context, c: &Captured) -> Result<Valid, String> {
    let target = &ctx.bundle.statement.predicate.target;
    let host = target_host(target)
        .ok_or_else(|| format!("the bundle's target {target:?} is not an https URL"))?;
    if !c.rec.host.eq_ignore_ascii_case(&host) || !c.rec.server_name.eq_ignore_ascii_case(&host) {
        return Err(format!(
            "the handshake was captured from {:?} (SNI {:?}), not the target host {host:?}",
            c.rec.host, c.rec.server_name
        ));
    }
    let v = validate_chain(
        ctx,
        &host,
        &c.chain,
        c.rec.chain.iter().map(|e| e.member.clone()),
    )?;
    // The connection that delivered the document (statement v2) presented
    // its own chain: it is judged by the same rule, so that none of its
    // bytes is recorded without being judged (its leaf is judged by
    // `tls.binding`).
    if let Some(dc) = &ctx.bundle.statement.predicate.document_connection {
        let mut chain = Vec::with_capacity(dc.chain.len());
        for m in &dc.chain {
            chain.push(
                ctx.member(m)
                    .ok_or_else(|| {
                        format!("the document connection's chain member {m} is missing")
                    })?
                    .to_vec(),
            );
        }
        if chain.is_empty() {
            return Err("the document connection records an empty chain".into());
        }
        validate_chain(ctx, &host, &chain, dc.chain.iter().cloned())
            .map_err(|e| format!("the chain of the connection that delivered the document: {e}"))?;
        let mut v = v;
        v.summary
            .push_str("; the document's own connection presented a chain that validates too");
        v.members.extend(dc.chain.iter().cloned());
        return Ok(v);
    }
    Ok(v)
}

/// Path validation of one presented chain (leaf first) for `host` at the
/// evaluation time, to the trust set's TLS roots only. Every presented
/// intermediate must be a certificate that parses: a chain is judged as
/// presented, not only the path webpki picked from it.
fn validate_chain(
    ctx: &Context,
    host: &str,
    chain: &[Vec<u8>],
    members: impl Iterator<Item = String>,
) -> Result<Valid, String> {
    let host = host.to_string();
    for (i, der) in chain.iter().enumerate().skip(1) {
        use der::Decode;
        x509_cert::Certificate::from_der(der)
            .map_err(|e| format!("presented certificate #{i} does not parse: {e}"))?;
    }
    // Anchors: only the trust set's.
    let mut anchors: Vec<TrustAnchor<'static>> = Vec::new();
    let mut names: Vec<(Vec<u8>, String)> = Vec::new();
    if ctx.trust.webpki_mozilla {
        anchors.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for der in &ctx.trust.tls_roots {
        let cd = CertificateDer::from(der.as_slice());
        if let Ok(a) = webpki::anchor_from_trusted_cert(&cd) {
            names.push((a.subject.as_ref().to_vec(), crate::util::sha256_hex(der)));
            anchors.push(a.to_owned());
        }
    }
    if anchors.is_empty() {
        return Err(format!(
            "trust set {:?} has no TLS roots (mozilla_roots off, no tls.roots)",
            ctx.trust.name
        ));
    }
    let leaf = CertificateDer::from(chain[0].as_slice());
    let ee = webpki::EndEntityCert::try_from(&leaf)
        .map_err(|e| format!("the leaf certificate does not parse: {e}"))?;
    let inter: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    let secs = ctx.eval_time.unix_timestamp().max(0) as u64;
    let when = UnixTime::since_unix_epoch(Duration::from_secs(secs));
    let path = ee
        .verify_for_usage(
            ALGS,
            &anchors,
            &inter,
            when,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| {
            format!(
                "the chain does not validate to a root of trust set {:?} at {}: {e}",
                ctx.trust.name,
                crate::util::fmt_time(ctx.eval_time)
            )
        })?;
    let sn = ServerName::try_from(host.as_str())
        .map_err(|e| format!("target host {host:?} is not a valid server name: {e}"))?;
    ee.verify_is_valid_for_subject_name(&sn)
        .map_err(|e| format!("the leaf is not valid for {host:?}: {e}"))?;
    let anchor_subject = path.anchor().subject.as_ref().to_vec();
    let anchor = describe_name(&anchor_subject);
    let anchor = match names.iter().find(|(s, _)| *s == anchor_subject) {
        Some((_, sha)) => format!(
            "{anchor} (trust file root sha256 {})",
            crate::util::short_hex(sha)
        ),
        None => format!("{anchor} (Mozilla root program)"),
    };
    let leaf_subject = {
        use der::Decode;
        x509_cert::Certificate::from_der(&chain[0])
            .map(|x| x.tbs_certificate.subject.to_string())
            .unwrap_or_default()
    };
    let used = path.intermediate_certificates().count();
    // Every presented certificate is judged: on the validated path, or a
    // byte-identical copy of a trust-file root, or (Mozilla anchors, whose
    // certificate bytes the audit build does not carry) a certificate with
    // the anchor's subject and key. Anything else was presented but judged
    // by nothing, so the chain is not accepted as presented.
    let on_path: Vec<Vec<u8>> = path
        .intermediate_certificates()
        .map(|c| c.der().as_ref().to_vec())
        .collect();
    let anchor_spki = path.anchor().subject_public_key_info.as_ref().to_vec();
    for (i, der) in chain.iter().enumerate().skip(1) {
        if on_path.contains(der) || ctx.trust.tls_roots.iter().any(|r| r == der) {
            continue;
        }
        let copy_of_mozilla_anchor = ctx.trust.webpki_mozilla && {
            use der::{Decode, Encode};
            x509_cert::Certificate::from_der(der).is_ok_and(|c| {
                let subj = c.tbs_certificate.subject.to_der().unwrap_or_default();
                let spki = c
                    .tbs_certificate
                    .subject_public_key_info
                    .to_der()
                    .unwrap_or_default();
                der_contents(&subj) == Some(anchor_subject.as_slice())
                    && der_contents(&spki) == Some(anchor_spki.as_slice())
            })
        };
        if !copy_of_mozilla_anchor {
            return Err(format!(
                "presented certificate #{i} is neither on the validated path nor a copy of its root: it was presented but nothing vouches for it"
            ));
        }
    }
    Ok(Valid {
        summary: format!(
            "{} certificate(s) presented; path leaf → {used} intermediate(s) → {anchor}; valid for {host} at {}",
            chain.len(),
            crate::util::fmt_time(ctx.eval_time)
        ),
        host,
        anchor,
        leaf_subject,
        members: members.collect(),
    })
}

/// The contents of one DER TLV (without tag and length), as webpki keeps a
/// trust anchor's subject and key; `None` unless `tlv` is exactly one TLV.
fn der_contents(tlv: &[u8]) -> Option<&[u8]> {
    use der::{Decode, Reader};
    let mut r = der::SliceReader::new(tlv).ok()?;
    let h = der::Header::decode(&mut r).ok()?;
    let len = usize::try_from(h.length).ok()?;
    (r.remaining_len() == h.length).then(|| &tlv[tlv.len() - len..])
}

/// A subject (DER contents of the Name SEQUENCE) as text.
fn describe_name(contents: &[u8]) -> String {
    use der::Decode;
    let mut full = vec![0x30];
    let n = contents.len();
    if n < 0x80 {
        full.push(n as u8);
    } else if n < 0x100 {
        full.extend([0x81, n as u8]);
    } else {
        full.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    full.extend_from_slice(contents);
    x509_cert::name::Name::from_der(&full)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "(unparsable subject)".into())
}

// ---- RustCrypto signature algorithms for rustls-webpki ----------------------

/// The signature algorithms `tls.chain` accepts (RustCrypto, no ring).
pub static ALGS: &[&dyn SignatureVerificationAlgorithm] = &[
    &Ecdsa(EcCurve::P256, Hash::Sha256),
    &Ecdsa(EcCurve::P256, Hash::Sha384),
    &Ecdsa(EcCurve::P384, Hash::Sha256),
    &Ecdsa(EcCurve::P384, Hash::Sha384),
    &Rsa(RsaPad::Pkcs1, Hash::Sha256),
    &Rsa(RsaPad::Pkcs1, Hash::Sha384),
    &Rsa(RsaPad::Pkcs1, Hash::Sha512),
    &Rsa(RsaPad::Pss, Hash::Sha256),
    &Rsa(RsaPad::Pss, Hash::Sha384),
    &Rsa(RsaPad::Pss, Hash::Sha512),
];

#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy)]
enum EcCurve {
    P256,
    P384,
}

#[derive(Debug)]
struct Ecdsa(EcCurve, Hash);

fn prehash(h: Hash, m: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    match h {
        Hash::Sha256 => sha2::Sha256::digest(m).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(m).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(m).to_vec(),
    }
}

impl SignatureVerificationAlgorithm for Ecdsa {
    fn verify_signature(&self, pk: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), InvalidSignature> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        let digest = prehash(self.1, msg);
        match self.0 {
            EcCurve::P256 => {
                let k =
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(pk).map_err(|_| InvalidSignature)?;
                let s = p256::ecdsa::Signature::from_der(sig).map_err(|_| InvalidSignature)?;
                k.verify_prehash(&digest, &s).map_err(|_| InvalidSignature)
            }
            EcCurve::P384 => {
                let k =
                    p384::ecdsa::VerifyingKey::from_sec1_bytes(pk).map_err(|_| InvalidSignature)?;
                let s = p384::ecdsa::Signature::from_der(sig).map_err(|_| InvalidSignature)?;
                k.verify_prehash(&digest, &s).map_err(|_| InvalidSignature)
            }
        }
    }
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        match self.0 {
            EcCurve::P256 => alg_id::ECDSA_P256,
            EcCurve::P384 => alg_id::ECDSA_P384,
        }
    }
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.1 {
            Hash::Sha256 => alg_id::ECDSA_SHA256,
            Hash::Sha384 => alg_id::ECDSA_SHA384,
            Hash::Sha512 => alg_id::ECDSA_SHA512,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum RsaPad {
    Pkcs1,
    Pss,
}

#[derive(Debug)]
struct Rsa(RsaPad, Hash);

impl SignatureVerificationAlgorithm for Rsa {
    fn verify_signature(&self, pk: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), InvalidSignature> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        let key = rsa::RsaPublicKey::from_pkcs1_der(pk).map_err(|_| InvalidSignature)?;
        // WebPKI: 2048..=8192-bit moduli (as rustls-webpki's own RSA algorithms).
        let bits = rsa::traits::PublicKeyParts::size(&key) * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(InvalidSignature);
        }
        let digest = prehash(self.1, msg);
        let scheme_ok = match (self.0, self.1) {
            (RsaPad::Pkcs1, Hash::Sha256) => {
                key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, sig)
            }
            (RsaPad::Pkcs1, Hash::Sha384) => {
                key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), &digest, sig)
            }
            (RsaPad::Pkcs1, Hash::Sha512) => {
                key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha512>(), &digest, sig)
            }
            (RsaPad::Pss, Hash::Sha256) => {
                key.verify(rsa::Pss::new::<sha2::Sha256>(), &digest, sig)
            }
            (RsaPad::Pss, Hash::Sha384) => {
                key.verify(rsa::Pss::new::<sha2::Sha384>(), &digest, sig)
            }
            (RsaPad::Pss, Hash::Sha512) => {
                key.verify(rsa::Pss::new::<sha2::Sha512>(), &digest, sig)
            }
        };
        scheme_ok.map_err(|_| InvalidSignature)
    }
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match (self.0, self.1) {
            (RsaPad::Pkcs1, Hash::Sha256) => alg_id::RSA_PKCS1_SHA256,
            (RsaPad::Pkcs1, Hash::Sha384) => alg_id::RSA_PKCS1_SHA384,
            (RsaPad::Pkcs1, Hash::Sha512) => alg_id::RSA_PKCS1_SHA512,
            (RsaPad::Pss, Hash::Sha256) => alg_id::RSA_PSS_SHA256,
            (RsaPad::Pss, Hash::Sha384) => alg_id::RSA_PSS_SHA384,
            (RsaPad::Pss, Hash::Sha512) => alg_id::RSA_PSS_SHA512,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This family's section, validated as part of a protocol file.
    fn validate_section(v: &serde_json::Value) -> Result<(), String> {
        crate::protocol::validate_one_section("tls", v)
    }

    #[test]
    fn target_host_strips_scheme_and_port() {
        assert_eq!(
            target_host("https://enclave.blyss.dev").as_deref(),
            Some("enclave.blyss.dev")
        );
        assert_eq!(
            target_host("https://127.0.0.1:8443").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(target_host("https://[::1]:8443").as_deref(), Some("::1"));
        assert_eq!(target_host("file"), None);
    }

    #[test]
    fn sections_are_typed() {
        assert!(validate_section(&serde_json::json!({})).is_ok());
        assert!(validate_section(
            &serde_json::json!({"chain": "not-applicable", "chain_reason": "x"})
        )
        .is_ok());
        assert!(validate_section(&serde_json::json!({"report_data_tail": "any"})).is_ok());
        assert!(validate_section(&serde_json::json!({"chain": "maybe"})).is_err());
        assert!(validate_section(&serde_json::json!({"extra": 1})).is_err());
    }

    #[test]
    fn ecdsa_adapter_rejects_a_modified_message() {
        use p256::ecdsa::signature::Signer;
        let k = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let sig: p256::ecdsa::DerSignature = k.sign(b"hello");
        let pk = k.verifying_key().to_encoded_point(false);
        let alg = Ecdsa(EcCurve::P256, Hash::Sha256);
        assert!(alg
            .verify_signature(pk.as_bytes(), b"hello", sig.as_bytes())
            .is_ok());
        assert!(alg
            .verify_signature(pk.as_bytes(), b"hellp", sig.as_bytes())
            .is_err());
        assert!(alg
            .verify_signature(b"junk", b"hello", sig.as_bytes())
            .is_err());
    }
}

#[cfg(test)]
mod der_contents_tests {
    use super::der_contents;

    /// The copy-of-a-Mozilla-root rule of `tls.chain` compares these
    /// contents with webpki's anchor subject and key: a helper that returned
    /// `None` for every input would make every presented root copy fail.
    #[test]
    fn one_tlv_yields_its_contents_and_anything_else_yields_none() {
        assert_eq!(der_contents(&[0x30, 2, 5, 0]), Some(&[5u8, 0][..]));
        assert_eq!(der_contents(&[0x30, 2, 5, 0, 0]), None, "trailing byte");
        assert_eq!(der_contents(&[0x30, 3, 5, 0]), None, "short contents");
        assert_eq!(der_contents(&[]), None);
    }
}
