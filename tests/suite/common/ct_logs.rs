//! TEST-ONLY Certificate Transparency world: logs built on ct-merkle-
//! compatible trees, signing with fresh P-256 keys, a log list signed by a
//! fresh RSA key, and a test CA that embeds SCTs from these logs. Nothing
//! here is trusted by the tool except through a test trust file.
//!
//! Two kinds of log:
//! * RFC 6962 (`get-sth`, `get-proof-by-hash`), with an optional merge delay
//!   (entries join the published tree only after it);
//! * static-ct-api (`checkpoint` as a signed note with an RFC 6962 note
//!   signature, hash tiles `tile/<L>/<N>[.p/<W>]`), entries sequenced at once
//!   and SCTs carrying `leaf_index`.
//!
//! Faults: a log that is down, a proof for the wrong index, an STH with a bad
//! signature, a checkpoint from another origin, a tree that shrinks.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use blyss_evidence::evidence::ct::checkpoint::format_rfc6962;
use blyss_evidence::evidence::ct::der_walk::{children, encode, read_tlv};
use blyss_evidence::evidence::ct::merkle::{mth, path_ranges};
use blyss_evidence::evidence::ct::precert::{issuer_key_hash, leaf_hash, precert_leaf};
use blyss_evidence::evidence::ct::sct::{Sct, SCT_LIST_OID_DER};
use blyss_evidence::evidence::ct::sig::DigitallySigned;
use blyss_evidence::evidence::ct::sth::{tree_head_signed_data, TreeHead};
use blyss_evidence::evidence::ct::tiles::{build_tiles, parse_path};
use blyss_evidence::evidence::ct::tls_codec::Writer;
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;

use super::world::{
    certified, CertPlan, HttpRequest, HttpResponse, Issued, LeafSpec, Server, TestCa,
};

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Which API a test log speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rfc6962,
    Tiled,
}

/// Misbehaviours a test log can show.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Nobody answers (connection refused).
    pub down: bool,
    /// `get-proof-by-hash` answers with the proof of another index.
    pub wrong_index: bool,
    /// Tree heads carry a signature over other values.
    pub bad_sth_signature: bool,
    /// Checkpoints name (and are signed for) another origin.
    pub other_origin: bool,
    /// Every tree head is smaller than the one before, and none holds the
    /// entry the SCT promised.
    pub shrink: bool,
}

/// How to build a test log.
#[derive(Debug, Clone)]
pub struct LogSpec {
    pub name: String,
    pub operator: String,
    pub kind: Kind,
    /// RFC 6962 only: how long after the log first serves a tree head the
    /// submitted entry joins the tree. Counted from the first tree head, not
    /// from the SCT, so that the first head a collector sees never holds the
    /// entry however slowly a loaded machine runs the test.
    pub merge_delay: Duration,
    pub faults: Faults,
    /// Unrelated entries before the first submission (so proofs span tiles).
    pub fillers_before: usize,
    /// Unrelated entries appended after each submission.
    pub fillers_after: usize,
}

impl LogSpec {
    pub fn rfc6962(name: &str, operator: &str) -> Self {
        LogSpec {
            name: name.into(),
            operator: operator.into(),
            kind: Kind::Rfc6962,
            merge_delay: Duration::ZERO,
            faults: Faults::default(),
            fillers_before: 5,
            fillers_after: 2,
        }
    }
    pub fn tiled(name: &str, operator: &str) -> Self {
        LogSpec {
            name: name.into(),
            operator: operator.into(),
            kind: Kind::Tiled,
            merge_delay: Duration::ZERO,
            faults: Faults::default(),
            fillers_before: 300,
            fillers_after: 3,
        }
    }
}

struct Entry {
    hash: [u8; 32],
    /// Joins the tree this long after the first tree head was served
    /// (zero: at once).
    delay: Duration,
}

struct State {
    entries: Vec<Entry>,
    heads_served: usize,
    /// When the first tree head was served.
    first_head_at: Option<Instant>,
}

impl State {
    /// How many leading entries are merged now.
    fn merged(&self) -> usize {
        let now = Instant::now();
        self.entries
            .iter()
            .take_while(|e| {
                e.delay.is_zero() || self.first_head_at.is_some_and(|t| now >= t + e.delay)
            })
            .count()
    }
}

/// A test log. Serve it with [`TestLog::serve`] (loopback HTTP) or call
/// [`TestLog::handle`] directly.
pub struct TestLog {
    pub spec: LogSpec,
    key: SigningKey,
    /// SubjectPublicKeyInfo DER of the log key.
    pub spki: Vec<u8>,
    pub log_id: [u8; 32],
    base_url: Mutex<String>,
    state: Mutex<State>,
}

/// A response of a test log.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

fn resp(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Resp {
    Resp {
        status,
        content_type,
        body: body.into(),
    }
}

fn not_found(what: &str) -> Resp {
    resp(
        404,
        "application/json",
        serde_json::to_vec(&serde_json::json!({"error_message": what})).unwrap(),
    )
}

impl TestLog {
    pub fn new(spec: LogSpec) -> Arc<TestLog> {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let spki = key
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        let log_id = blyss_evidence::util::sha256(&spki);
        let log = TestLog {
            key,
            spki,
            log_id,
            base_url: Mutex::new(format!("http://{}.test-logs.invalid/", spec.name)),
            state: Mutex::new(State {
                entries: Vec::new(),
                heads_served: 0,
                first_head_at: None,
            }),
            spec,
        };
        let n = log.spec.fillers_before;
        log.push_fillers(n, Duration::ZERO);
        Arc::new(log)
    }

    fn push_fillers(&self, n: usize, delay: Duration) {
        let mut st = self.state.lock().unwrap();
        for _ in 0..n {
            let mut junk = [0u8; 48];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut junk);
            st.entries.push(Entry {
                hash: leaf_hash(&junk),
                delay,
            });
        }
    }

    /// The URL the log is reached at (trailing slash).
    pub fn url(&self) -> String {
        self.base_url.lock().unwrap().clone()
    }

    pub fn set_url(&self, url: &str) {
        let mut u = url.to_string();
        if !u.ends_with('/') {
            u.push('/');
        }
        *self.base_url.lock().unwrap() = u;
    }

    /// Checkpoint origin: the URL without scheme and trailing slash.
    pub fn origin(&self) -> String {
        blyss_evidence::evidence::ct::loglist::origin_of(&self.url())
    }

    /// Number of entries (merged or not).
    pub fn len(&self) -> usize {
        self.state.lock().unwrap().entries.len()
    }

    /// Logs a precertificate entry (TBS without poison/SCT extension) and
    /// returns the serialized SCT.
    pub fn submit(&self, tbs: &[u8], issuer_key_hash: &[u8; 32]) -> Vec<u8> {
        let timestamp = now_ms();
        let index = self.len() as u64;
        let mut extensions = Vec::new();
        if self.spec.kind == Kind::Tiled {
            let mut w = Writer::new();
            w.u8(0).u16(5).u40(index);
            extensions = w.buf;
        }
        let mut sct = Sct {
            log_id: self.log_id,
            timestamp,
            extensions: extensions.clone(),
            hash_alg: 4,
            sig_alg: 3,
            signature: Vec::new(),
            raw: Vec::new(),
        };
        let leaf = precert_leaf(&sct, tbs, issuer_key_hash).unwrap();
        let sig: Signature = self.key.sign(&leaf);
        sct.signature = sig.to_der().as_bytes().to_vec();
        let delay = if self.spec.kind == Kind::Rfc6962 {
            self.spec.merge_delay
        } else {
            Duration::ZERO
        };
        self.state.lock().unwrap().entries.push(Entry {
            hash: leaf_hash(&leaf),
            delay,
        });
        self.push_fillers(self.spec.fillers_after, delay);
        let mut w = Writer::new();
        w.u8(0).raw(&sct.log_id).u64(sct.timestamp);
        w.vec16(&extensions).unwrap();
        w.u8(4).u8(3);
        w.vec16(&sct.signature).unwrap();
        w.buf
    }

    /// Size of the published tree (longest merged prefix), as the next
    /// tree head will show it (the shrink fault applied).
    fn next_head_size(&self) -> (usize, Vec<[u8; 32]>) {
        let mut st = self.state.lock().unwrap();
        st.first_head_at.get_or_insert_with(Instant::now);
        let merged = st.merged();
        let size = if self.spec.faults.shrink {
            let k = st.heads_served;
            merged
                .saturating_sub(self.spec.fillers_after + 1 + k)
                .max(1)
        } else {
            merged
        };
        st.heads_served += 1;
        let hashes = st.entries[..size].iter().map(|e| e.hash).collect();
        (size, hashes)
    }

    fn current_hashes(&self) -> Vec<[u8; 32]> {
        let st = self.state.lock().unwrap();
        st.entries[..st.merged()].iter().map(|e| e.hash).collect()
    }

    fn sign_head(&self, size: u64, root: [u8; 32]) -> TreeHead {
        let timestamp = now_ms();
        let signed_size = if self.spec.faults.bad_sth_signature {
            size + 1
        } else {
            size
        };
        let sig: Signature = self
            .key
            .sign(&tree_head_signed_data(timestamp, signed_size, &root));
        TreeHead {
            tree_size: size,
            timestamp,
            root,
            signature: DigitallySigned {
                hash_alg: 4,
                sig_alg: 3,
                signature: sig.to_der().as_bytes().to_vec(),
            },
        }
    }

    /// Answers a GET for `path` (relative to the log URL, query included).
    pub fn handle(&self, path: &str) -> Resp {
        let (p, query) = path.split_once('?').unwrap_or((path, ""));
        let p = p.trim_start_matches('/');
        match (self.spec.kind, p) {
            (Kind::Rfc6962, "ct/v1/get-sth") => {
                let (size, hashes) = self.next_head_size();
                let h = self.sign_head(size as u64, mth(&hashes));
                let mut sig = Writer::new();
                sig.u8(4).u8(3);
                sig.vec16(&h.signature.signature).unwrap();
                let body = serde_json::json!({
                    "tree_size": h.tree_size,
                    "timestamp": h.timestamp,
                    "sha256_root_hash": b64(&h.root),
                    "tree_head_signature": b64(&sig.buf),
                });
                resp(200, "application/json", serde_json::to_vec(&body).unwrap())
            }
            (Kind::Rfc6962, "ct/v1/get-proof-by-hash") => self.proof_by_hash(query),
            (Kind::Tiled, "checkpoint") => {
                let (size, hashes) = self.next_head_size();
                let h = self.sign_head(size as u64, mth(&hashes));
                let origin = if self.spec.faults.other_origin {
                    "other-log.test.invalid/elsewhere".to_string()
                } else {
                    self.origin()
                };
                let text = format_rfc6962(&origin, &self.log_id, &h).unwrap();
                resp(200, "text/plain; charset=utf-8", text)
            }
            (Kind::Tiled, tp) if tp.starts_with("tile/") => {
                let Some(want) = parse_path(tp) else {
                    return not_found("not a tile path");
                };
                let hashes = self.current_hashes();
                match build_tiles(&hashes).into_iter().find(|(t, _)| *t == want) {
                    Some((_, data)) => resp(200, "application/octet-stream", data),
                    None => not_found("no such tile"),
                }
            }
            _ => not_found("unknown endpoint"),
        }
    }

    fn proof_by_hash(&self, query: &str) -> Resp {
        let mut hash = None;
        let mut size = None;
        for kv in query.split('&') {
            match kv.split_once('=') {
                Some(("hash", v)) => {
                    let v = v
                        .replace("%2B", "+")
                        .replace("%2F", "/")
                        .replace("%3D", "=");
                    hash = base64::engine::general_purpose::STANDARD.decode(v).ok();
                }
                Some(("tree_size", v)) => size = v.parse::<usize>().ok(),
                _ => {}
            }
        }
        let (Some(hash), Some(size)) = (hash, size) else {
            return resp(
                400,
                "application/json",
                "{\"error_message\":\"bad request\"}",
            );
        };
        let hashes = self.current_hashes();
        if size == 0 || size > hashes.len() {
            return resp(
                400,
                "application/json",
                "{\"error_message\":\"bad tree_size\"}",
            );
        }
        let Some(index) = hashes[..size].iter().position(|h| h.as_slice() == hash) else {
            return not_found("hash not found in tree");
        };
        let proved = if self.spec.faults.wrong_index && size > 1 {
            (index + 1) % size
        } else {
            index
        };
        let path: Vec<String> = path_ranges(proved as u64, size as u64)
            .iter()
            .map(|(a, b)| b64(&mth(&hashes[*a as usize..*b as usize])))
            .collect();
        let body = serde_json::json!({"leaf_index": proved, "audit_path": path});
        resp(200, "application/json", serde_json::to_vec(&body).unwrap())
    }

    /// This log's entry in a v3 log list.
    pub fn list_entry(&self) -> serde_json::Value {
        let mut e = serde_json::json!({
            "description": self.spec.name,
            "log_id": b64(&self.log_id),
            "key": b64(&self.spki),
            "mmd": 60,
            "state": {"usable": {"timestamp": "2020-01-01T00:00:00Z"}},
            "temporal_interval": {
                "start_inclusive": "2020-01-01T00:00:00Z",
                "end_exclusive": "2100-01-01T00:00:00Z"
            }
        });
        match self.spec.kind {
            Kind::Rfc6962 => e["url"] = self.url().into(),
            Kind::Tiled => {
                e["submission_url"] = self.url().into();
                e["monitoring_url"] = self.url().into();
            }
        }
        e
    }

    /// Serves the log over HTTPS on 127.0.0.1 (an ephemeral port) with a
    /// certificate from `ca`; a log with the `down` fault gets a port nobody
    /// listens on.
    pub fn serve(self: &Arc<Self>, ca: &TestCa, serial: u32) -> Option<Server> {
        if self.spec.faults.down {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            drop(l);
            self.set_url(&format!("https://127.0.0.1:{port}/{}/", self.spec.name));
            return None;
        }
        let cert = ca.issue(&LeafSpec::loopback(
            &format!("ct-log-{}", self.spec.name),
            serial,
        ));
        let server = Server::start(Some(CertPlan::Fixed(certified(
            &[cert.der.as_slice(), ca.cert.der.as_slice()],
            &cert,
        ))));
        let log = Arc::clone(self);
        let prefix = format!("/{}/", self.spec.name);
        let p2 = prefix.clone();
        server.route_prefix(&prefix, move |req: &HttpRequest| {
            let rest = &req.path[p2.len()..];
            let target = if req.query.is_empty() {
                rest.to_string()
            } else {
                format!("{rest}?{}", req.query)
            };
            let r = log.handle(&target);
            HttpResponse {
                status: r.status,
                headers: vec![("Content-Type".into(), r.content_type.into())],
                body: r.body,
            }
        });
        self.set_url(&format!("{}{prefix}", server.url()));
        Some(server)
    }
}

/// The TEST-ONLY RSA key that signs test log lists (RSA-2048, generated once
/// per test process).
pub fn list_key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap())
}

/// SPKI PEM of the list key, for a trust file.
pub fn list_key_pem() -> String {
    use rsa::pkcs8::EncodePublicKey as _;
    list_key()
        .to_public_key()
        .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap()
}

/// A v3 log list of `logs` (grouped by operator) and its signature.
pub fn log_list(logs: &[&TestLog]) -> (Vec<u8>, Vec<u8>) {
    let mut ops: BTreeMap<String, (Vec<serde_json::Value>, Vec<serde_json::Value>)> =
        BTreeMap::new();
    for l in logs {
        let e = ops.entry(l.spec.operator.clone()).or_default();
        match l.spec.kind {
            Kind::Rfc6962 => e.0.push(l.list_entry()),
            Kind::Tiled => e.1.push(l.list_entry()),
        }
    }
    let operators: Vec<serde_json::Value> = ops
        .into_iter()
        .map(|(name, (logs, tiled))| {
            serde_json::json!({"name": name, "email": ["test@example.invalid"], "logs": logs, "tiled_logs": tiled})
        })
        .collect();
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "version": "1.0-test",
        "log_list_timestamp": "2025-01-01T00:00:00Z",
        "operators": operators,
    }))
    .unwrap();
    (json.clone(), sign_list(&json))
}

/// Signs bytes with the test list key (RSASSA-PKCS1-v1_5, SHA-256).
pub fn sign_list(json: &[u8]) -> Vec<u8> {
    use rsa::signature::{SignatureEncoding, Signer as _};
    let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(list_key().clone());
    sk.sign(json).to_vec()
}

/// Writes a test trust file (CT section only, plus `extra` JSON merged at
/// top level) into `dir`; returns its path.
pub fn write_trust(dir: &Path, snapshot: Option<&[u8]>) -> PathBuf {
    std::fs::write(dir.join("ct-log-list-key.pem"), list_key_pem()).unwrap();
    let mut ct = serde_json::json!({"log_list_keys": ["ct-log-list-key.pem"]});
    if let Some(s) = snapshot {
        std::fs::write(dir.join("ct-log-list-snapshot.json"), s).unwrap();
        ct["log_list_snapshot"] = "ct-log-list-snapshot.json".into();
    }
    let t = serde_json::json!({
        "schema": "blyss-evidence.trust/v1",
        "name": "ct-test-world",
        "version": "1",
        "ct": ct,
    });
    let p = dir.join("trust.json");
    std::fs::write(&p, serde_json::to_vec_pretty(&t).unwrap()).unwrap();
    p
}

/// Submits `cert`'s TBS to every log and returns the certificate re-issued
/// with the SCT list extension appended to its extensions, signed by
/// `sign_tbs` (the issuer's key, same algorithm as the certificate names).
/// Removing that extension gives back the original TBS byte for byte, so
/// the logged precertificate entry and the final certificate match.
pub fn embed_scts(
    cert: &[u8],
    issuer: &[u8],
    sign_tbs: &dyn Fn(&[u8]) -> Vec<u8>,
    logs: &[&TestLog],
) -> Vec<u8> {
    let top = read_tlv(cert, 0, cert.len()).unwrap();
    let parts = children(cert, &top).unwrap();
    let (tbs, alg) = (parts[0], parts[1]);
    let tbs0 = tbs.whole(cert).to_vec();
    let ikh = issuer_key_hash(issuer).unwrap();
    // The SCT list, TLS-encoded.
    let mut list = Writer::new();
    for l in logs {
        let sct = l.submit(&tbs0, &ikh);
        list.vec16(&sct).unwrap();
    }
    let mut outer = Writer::new();
    outer.vec16(&list.buf).unwrap();
    let mut ext_content = SCT_LIST_OID_DER.to_vec();
    ext_content.extend(encode(0x04, &encode(0x04, &outer.buf)));
    let ext = encode(0x30, &ext_content);
    // Append it to the Extensions SEQUENCE inside [3].
    let fields = children(cert, &tbs).unwrap();
    let wrapper = *fields.last().unwrap();
    assert_eq!(wrapper.tag, 0xa3, "the certificate needs extensions");
    let seq = read_tlv(cert, wrapper.content, wrapper.end).unwrap();
    let mut seq_content = seq.value(cert).to_vec();
    seq_content.extend(ext);
    let mut tbs_content = cert[tbs.content..wrapper.start].to_vec();
    tbs_content.extend(encode(0xa3, &encode(0x30, &seq_content)));
    let tbs1 = encode(0x30, &tbs_content);
    let sig = sign_tbs(&tbs1);
    let mut bits = vec![0u8];
    bits.extend(sig);
    let mut content = tbs1;
    content.extend_from_slice(alg.whole(cert));
    content.extend(encode(0x03, &bits));
    encode(0x30, &content)
}

/// Two logs run by different operators (RFC 6962 "elm2025" by "Test
/// Operator A", static-ct-api "fir2025" by "Test Operator B") and their
/// signed log list, optionally served over loopback HTTPS.
pub struct CtWorld {
    pub logs: Vec<Arc<TestLog>>,
    pub list_json: Vec<u8>,
    pub list_sig: Vec<u8>,
    /// Where the list is served (`.sig` beside it).
    pub list_url: String,
    /// The list server and the log servers (kept alive with the world).
    pub servers: Vec<Server>,
}

impl CtWorld {
    /// The standard pair of logs.
    pub fn specs() -> Vec<LogSpec> {
        vec![
            LogSpec::rfc6962("elm2025", "Test Operator A"),
            LogSpec::tiled("fir2025", "Test Operator B"),
        ]
    }

    /// Builds the logs and their list; with `serve: Some(ca)` the logs and
    /// the list are served over HTTPS with certificates from `ca`, else
    /// they answer through [`DirectIo`] only.
    pub fn new(specs: Vec<LogSpec>, serve: Option<&TestCa>) -> CtWorld {
        let logs: Vec<Arc<TestLog>> = specs.into_iter().map(TestLog::new).collect();
        let mut servers = Vec::new();
        if let Some(ca) = serve {
            for (i, l) in logs.iter().enumerate() {
                servers.extend(l.serve(ca, 100 + i as u32));
            }
        }
        let refs: Vec<&TestLog> = logs.iter().map(|l| l.as_ref()).collect();
        let (list_json, list_sig) = log_list(&refs);
        let list_url = match serve {
            Some(ca) => {
                let cert = ca.issue(&LeafSpec::loopback("ct-log-list", 99));
                let srv = Server::start(Some(CertPlan::Fixed(certified(
                    &[cert.der.as_slice(), ca.cert.der.as_slice()],
                    &cert,
                ))));
                srv.serve(
                    "/ct/v3/log_list.json",
                    "application/json",
                    list_json.clone(),
                );
                srv.serve(
                    "/ct/v3/log_list.sig",
                    "application/octet-stream",
                    list_sig.clone(),
                );
                let u = format!("{}/ct/v3/log_list.json", srv.url());
                servers.push(srv);
                u
            }
            None => "https://list.test-logs.invalid/ct/v3/log_list.json".to_string(),
        };
        CtWorld {
            logs,
            list_json,
            list_sig,
            list_url,
            servers,
        }
    }

    pub fn log(&self, name: &str) -> &Arc<TestLog> {
        self.logs.iter().find(|l| l.spec.name == name).unwrap()
    }

    /// `leaf` (issued by `ca`) re-issued with SCTs from every log embedded.
    pub fn embed(&self, leaf: &Issued, ca: &TestCa) -> Issued {
        let refs: Vec<&TestLog> = self.logs.iter().map(|l| l.as_ref()).collect();
        let sign = |tbs: &[u8]| {
            let sig: Signature = ca.cert.key.sign(tbs);
            sig.to_der().as_bytes().to_vec()
        };
        Issued {
            der: embed_scts(&leaf.der, &ca.cert.der, &sign, &refs),
            key: leaf.key.clone(),
        }
    }

    /// The `ct` section of a trust file, writing the list key into `dir`.
    pub fn trust_section(&self, dir: &Path) -> serde_json::Value {
        std::fs::write(dir.join("ct-log-list-key.pem"), list_key_pem()).unwrap();
        serde_json::json!({"log_list_keys": ["ct-log-list-key.pem"]})
    }
}

/// A CT world without servers, a test CA and a leaf with embedded SCTs
/// from its logs (for tests that drive the collector through [`DirectIo`]).
pub fn offline(specs: Vec<LogSpec>) -> (CtWorld, TestCa, Vec<u8>) {
    let w = CtWorld::new(specs, None);
    let ca = TestCa::new("blyss-evidence CT test CA");
    let leaf = w.embed(&ca.issue(&LeafSpec::loopback("ct-enclave", 7)), &ca);
    (w, ca, leaf.der)
}

/// Stored responses by path: body, URL, HTTP status.
pub type Stored = BTreeMap<String, (Vec<u8>, String, u16)>;

/// In-process I/O for the CT collector: URLs are answered by the world's
/// logs directly; everything stored is kept for a bundle.
pub struct DirectIo<'a> {
    pub world: &'a CtWorld,
    pub stored: Mutex<Stored>,
    pub warnings: Mutex<Vec<String>>,
    pub failures: Mutex<Vec<String>>,
    pub requests: Mutex<Vec<String>>,
}

impl<'a> DirectIo<'a> {
    pub fn new(world: &'a CtWorld) -> Self {
        DirectIo {
            world,
            stored: Mutex::new(BTreeMap::new()),
            warnings: Mutex::new(Vec::new()),
            failures: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
        }
    }
}

#[cfg(feature = "collect")]
impl blyss_evidence::collect::ct::CtIo for DirectIo<'_> {
    fn get(
        &self,
        _label: &str,
        url: &str,
        accept: &[u16],
    ) -> Result<blyss_evidence::collect::ct::Fetched, String> {
        self.requests.lock().unwrap().push(url.to_string());
        let w = self.world;
        let r = if url == w.list_url {
            resp(200, "application/json", w.list_json.clone())
        } else if url == blyss_evidence::collect::ct::signature_url(&w.list_url) {
            resp(200, "application/octet-stream", w.list_sig.clone())
        } else if let Some(l) = w.logs.iter().find(|l| url.starts_with(&l.url())) {
            if l.spec.faults.down {
                return Err("connection refused".into());
            }
            l.handle(&url[l.url().len()..])
        } else {
            return Err(format!("no route to {url}"));
        };
        if (200..300).contains(&r.status) || accept.contains(&r.status) {
            Ok(blyss_evidence::collect::ct::Fetched {
                url: url.to_string(),
                status: r.status,
                body: r.body,
                fetched_at: blyss_evidence::util::now(),
            })
        } else {
            Err(format!("HTTP {}", r.status))
        }
    }
    fn store(&self, path: &str, f: &blyss_evidence::collect::ct::Fetched) {
        self.stored
            .lock()
            .unwrap()
            .insert(path.to_string(), (f.body.clone(), f.url.clone(), f.status));
    }
    fn failed(&self, label: &str, url: &str, cause: &str) {
        self.failures
            .lock()
            .unwrap()
            .push(format!("could not collect {label} from {url}: {cause}"));
    }
    fn warn(&self, msg: String) {
        self.warnings.lock().unwrap().push(msg);
    }
}

/// Seals a bundle holding the TLS chain and what `io` stored.
pub fn seal_bundle(
    leaf: &[u8],
    issuer: Option<&[u8]>,
    stored: &Stored,
    warnings: &[String],
) -> blyss_evidence::bundle::Bundle {
    use blyss_evidence::bundle::{BundleBuilder, Source};
    let t = blyss_evidence::util::now();
    let mut b = BundleBuilder::new("https://enclave.test", "v0.0.1", t);
    let src = Source {
        origin: "tls://enclave.test:443".into(),
        http_status: None,
        fetched_at: t,
    };
    b.add("tls/chain-00.der", leaf.to_vec(), src.clone())
        .unwrap();
    if let Some(i) = issuer {
        b.add("tls/chain-01.der", i.to_vec(), src).unwrap();
    }
    for (p, (bytes, url, status)) in stored {
        b.add(
            p,
            bytes.clone(),
            Source {
                origin: url.clone(),
                http_status: Some(*status),
                fetched_at: t,
            },
        )
        .unwrap();
    }
    for w in warnings {
        b.warn(w.clone());
    }
    let key = p384::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let bytes = b.seal(t, &key).unwrap();
    blyss_evidence::bundle::Bundle::from_bytes(&bytes, "ct-test.zip").unwrap()
}
