//! A real container registry for tests: Debian's `docker-registry` package
//! (CNCF distribution 2.8), fetched by `scripts/registry.sh` into `.cache/`
//! and started on 127.0.0.1 with an ephemeral port and filesystem storage in
//! a temporary directory. Test images are pushed with plain HTTP uploads
//! (blob upload POST + PUT, manifest PUT) by the minimal HTTP/1.1 client
//! below. If the registry cannot be fetched or started, the test FAILS.
//!
//! Also here: [`MockRegistry`], an in-process registry for the paths a real
//! registry cannot be made to take (bearer-token auth, 429, tampered bodies,
//! oversized manifests, malformed JSON).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

pub fn sha256_digest(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

// ---------------------------------------------------------------------------
// Minimal HTTP/1.1 client (Connection: close, Content-Length bodies)
// ---------------------------------------------------------------------------

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(|s| s.as_str())
    }
}

/// One request over a fresh connection. `url` is `http://host:port/path`.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let rest = url.strip_prefix("http://").expect("http:// URL");
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of response headers");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = BTreeMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = raw[end + 4..].to_vec();
    if headers.get("transfer-encoding").map(|s| s.as_str()) == Some("chunked") {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap();
        b = &b[nl + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

// ---------------------------------------------------------------------------
// The real registry
// ---------------------------------------------------------------------------

/// A running distribution registry; killed on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:port`
    pub host: String,
    /// `http://127.0.0.1:port`
    pub url: String,
    _dir: tempfile::TempDir,
}

/// Path of the registry binary, fetched by the project's script. Panics (the
/// test fails) when the script fails.
pub fn registry_binary() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/scripts/registry.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/registry.sh");
    assert!(
        out.status.success(),
        "scripts/registry.sh failed ({}): the image tests need Debian's docker-registry package",
        out.status
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Registry {
    pub fn start() -> Registry {
        let bin = registry_binary();
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.yml");
        std::fs::write(
            &cfg,
            format!(
                "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: false\nhttp:\n  addr: 127.0.0.1:0\n  secret: blyss-evidence-test-only\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(&bin)
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // Keep draining the log after the address is known, so the registry
        // never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(i) = line.find("listening on ") {
                    let addr: String = line[i + 13..]
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '"')
                        .collect();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        let host = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("docker-registry did not report its listening address within 60 s");
            }
        };
        let r = Registry {
            child,
            url: format!("http://{host}"),
            host,
            _dir: dir,
        };
        let v2 = http("GET", &format!("{}/v2/", r.url), &[], b"");
        assert_eq!(v2.status, 200, "GET /v2/ on the test registry");
        r
    }

    /// Uploads a blob (monolithic: POST then PUT with the digest).
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        let r = http(
            "POST",
            &format!("{}/v2/{repo}/blobs/uploads/", self.url),
            &[],
            b"",
        );
        assert_eq!(
            r.status,
            202,
            "start upload: {}",
            String::from_utf8_lossy(&r.body)
        );
        let loc = r.header("location").expect("upload Location").to_string();
        let loc = if loc.starts_with("http") {
            loc
        } else {
            format!("{}{loc}", self.url)
        };
        let sep = if loc.contains('?') { '&' } else { '?' };
        let r = http(
            "PUT",
            &format!("{loc}{sep}digest={digest}"),
            &[("Content-Type", "application/octet-stream")],
            bytes,
        );
        assert_eq!(
            r.status,
            201,
            "finish upload: {}",
            String::from_utf8_lossy(&r.body)
        );
        digest
    }

    /// Puts a manifest under a tag or digest; returns its digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let r = http(
            "PUT",
            &format!("{}/v2/{repo}/manifests/{reference}", self.url),
            &[("Content-Type", media_type)],
            bytes,
        );
        assert_eq!(
            r.status,
            201,
            "PUT manifest {repo}:{reference}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let d = sha256_digest(bytes);
        assert_eq!(r.header("docker-content-digest"), Some(d.as_str()));
        d
    }

    /// Pushes an image (its blobs, then its manifests) under `tag`; returns
    /// the digest of the top-level manifest.
    pub fn push(&self, repo: &str, tag: &str, img: &TestImage) -> String {
        for b in &img.blobs {
            self.push_blob(repo, b);
        }
        for (mt, m) in &img.children {
            let d = sha256_digest(m);
            self.push_manifest(repo, &d, mt, m);
        }
        self.push_manifest(repo, tag, &img.media_type, &img.manifest)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Test images
// ---------------------------------------------------------------------------

/// Whether an image uses OCI or Docker media types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Oci,
    Docker,
}

/// A test image: config and layer blobs, child manifests (for an index),
/// the top-level manifest and its media type.
#[derive(Debug, Clone)]
pub struct TestImage {
    pub blobs: Vec<Vec<u8>>,
    pub children: Vec<(String, Vec<u8>)>,
    pub media_type: String,
    pub manifest: Vec<u8>,
    /// The config of the linux/amd64 image, when there is one.
    pub amd64_config: Option<Vec<u8>>,
    /// The linux/amd64 child manifest of an index.
    pub amd64_child: Option<Vec<u8>>,
}

impl TestImage {
    pub fn digest(&self) -> String {
        sha256_digest(&self.manifest)
    }
}

/// Config + layers + manifest for one platform. `seed` makes blobs distinct.
pub fn single(flavour: Flavour, os: &str, arch: &str, seed: &str) -> TestImage {
    let (mt, cmt, lmt) = match flavour {
        Flavour::Oci => (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER),
        Flavour::Docker => (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER),
    };
    let layer1 =
        format!("layer one of {seed} {os}/{arch} (test bytes, not a tarball)").into_bytes();
    let layer2 = format!("layer two of {seed} {os}/{arch}")
        .repeat(10)
        .into_bytes();
    let config = serde_json::to_vec(&serde_json::json!({
        "created": "2024-01-05T06:07:08Z",
        "architecture": arch,
        "os": os,
        "config": {
            "Entrypoint": ["/usr/bin/test-entry"],
            "Cmd": ["--seed", seed],
            "Labels": {
                "org.opencontainers.image.source": format!("https://example.test/{seed}"),
                "org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567"
            }
        },
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&layer1), sha256_digest(&layer2)]}
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": {"mediaType": cmt, "digest": sha256_digest(&config), "size": config.len()},
        "layers": [
            {"mediaType": lmt, "digest": sha256_digest(&layer1), "size": layer1.len()},
            {"mediaType": lmt, "digest": sha256_digest(&layer2), "size": layer2.len()}
        ]
    }))
    .unwrap();
    TestImage {
        amd64_config: (os == "linux" && arch == "amd64").then(|| config.clone()),
        blobs: vec![config, layer1, layer2],
        children: Vec::new(),
        media_type: mt.to_string(),
        manifest,
        amd64_child: None,
    }
}

/// An index (OCI) or manifest list (Docker) over the given platforms.
pub fn index(flavour: Flavour, platforms: &[(&str, &str)], seed: &str) -> TestImage {
    let imt = match flavour {
        Flavour::Oci => OCI_INDEX,
        Flavour::Docker => DOCKER_LIST,
    };
    let mut out = TestImage {
        blobs: Vec::new(),
        children: Vec::new(),
        media_type: imt.to_string(),
        manifest: Vec::new(),
        amd64_config: None,
        amd64_child: None,
    };
    let mut descs = Vec::new();
    for (os, arch) in platforms {
        let s = single(flavour, os, arch, seed);
        descs.push(serde_json::json!({
            "mediaType": s.media_type,
            "digest": sha256_digest(&s.manifest),
            "size": s.manifest.len(),
            "platform": {"architecture": arch, "os": os}
        }));
        if s.amd64_config.is_some() {
            out.amd64_config = s.amd64_config.clone();
            out.amd64_child = Some(s.manifest.clone());
        }
        out.blobs.extend(s.blobs);
        out.children.push((s.media_type, s.manifest));
    }
    out.manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": imt,
        "manifests": descs
    }))
    .unwrap();
    out
}

// ---------------------------------------------------------------------------
// In-process mock registry (auth, 429, bad bodies)
// ---------------------------------------------------------------------------

/// What the mock answers for one path.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Behaviour switches of the mock.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// Require `Authorization: Bearer <token>` on /v2/ paths; the token is
    /// served anonymously at `/token` (scope checked) as Docker Hub does.
    pub bearer_token: Option<String>,
    /// Require `Authorization: Basic <b64>` at `/token` (private registry).
    pub token_basic: Option<String>,
    /// Answer this many requests to /v2/ paths with 429 first.
    pub throttle: u32,
    /// `Retry-After` value sent with 429s.
    pub retry_after: Option<String>,
}

/// A request the mock saw (for assertions).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
}

pub struct MockRegistry {
    pub host: String,
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl MockRegistry {
    /// Serves `routes` (path → answer) under `cfg`.
    pub fn start(routes: BTreeMap<String, Canned>, cfg: MockConfig) -> MockRegistry {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = l.local_addr().unwrap().to_string();
        let url = format!("http://{host}");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, stop2, url2) = (seen.clone(), stop.clone(), url.clone());
        let throttle = Arc::new(Mutex::new(cfg.throttle));
        std::thread::spawn(move || {
            for conn in l.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut s) = conn else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let Some(req) = read_request(&mut s) else {
                    continue;
                };
                seen2.lock().unwrap().push(req.clone());
                let resp = answer(&req, &routes, &cfg, &throttle, &url2);
                let _ = s.write_all(&resp);
            }
        });
        MockRegistry {
            host,
            url,
            seen,
            stop,
        }
    }

    /// Manifest route key for `GET /v2/<repo>/manifests/<reference>`.
    pub fn manifest_path(repo: &str, reference: &str) -> String {
        format!("/v2/{repo}/manifests/{reference}")
    }

    pub fn blob_path(repo: &str, digest: &str) -> String {
        format!("/v2/{repo}/blobs/{digest}")
    }

    /// Routes serving `img` under repo `repo` byte for byte.
    pub fn routes_for(repo: &str, img: &TestImage) -> BTreeMap<String, Canned> {
        let mut r = BTreeMap::new();
        let c = |mt: &str, b: &[u8]| Canned {
            status: 200,
            content_type: mt.to_string(),
            body: b.to_vec(),
        };
        r.insert(
            Self::manifest_path(repo, &img.digest()),
            c(&img.media_type, &img.manifest),
        );
        for (mt, m) in &img.children {
            r.insert(Self::manifest_path(repo, &sha256_digest(m)), c(mt, m));
        }
        for b in &img.blobs {
            r.insert(
                Self::blob_path(repo, &sha256_digest(b)),
                c("application/octet-stream", b),
            );
        }
        r
    }
}

impl Drop for MockRegistry {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(&self.host);
    }
}

fn read_request(s: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let mut headers = BTreeMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    Some(Seen {
        method,
        path,
        headers,
    })
}

fn respond(status: u16, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut h = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    let mut out = h.into_bytes();
    out.extend_from_slice(body);
    out
}

fn answer(
    req: &Seen,
    routes: &BTreeMap<String, Canned>,
    cfg: &MockConfig,
    throttle: &Mutex<u32>,
    url: &str,
) -> Vec<u8> {
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    if path == "/token" {
        if let Some(basic) = &cfg.token_basic {
            if req.headers.get("authorization") != Some(&format!("Basic {basic}")) {
                return respond(401, &[], b"{\"details\":\"bad credentials\"}");
            }
        }
        if !query.contains("service=mock-registry") || !query.contains("scope=repository") {
            return respond(400, &[], b"missing service or scope");
        }
        let tok = cfg.bearer_token.clone().unwrap_or_default();
        let body = format!("{{\"token\":\"{tok}\",\"expires_in\":300}}");
        return respond(
            200,
            &[("Content-Type", "application/json".into())],
            body.as_bytes(),
        );
    }
    {
        let mut t = throttle.lock().unwrap();
        if *t > 0 {
            *t -= 1;
            let mut h = Vec::new();
            if let Some(ra) = &cfg.retry_after {
                h.push(("Retry-After", ra.clone()));
            }
            return respond(429, &h, b"{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}");
        }
    }
    if let Some(tok) = &cfg.bearer_token {
        if req.headers.get("authorization") != Some(&format!("Bearer {tok}")) {
            let repo = path
                .strip_prefix("/v2/")
                .and_then(|p| p.split("/manifests/").next())
                .and_then(|p| p.split("/blobs/").next())
                .unwrap_or("");
            let chal = format!(
                "Bearer realm=\"{url}/token\",service=\"mock-registry\",scope=\"repository:{repo}:pull\""
            );
            return respond(
                401,
                &[
                    ("WWW-Authenticate", chal),
                    ("Content-Type", "application/json".into()),
                ],
                b"{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
            );
        }
    }
    match routes.get(path) {
        Some(c) => respond(
            c.status,
            &[
                ("Content-Type", c.content_type.clone()),
                ("Docker-Content-Digest", sha256_digest(&c.body)),
            ],
            if req.method == "HEAD" { b"" } else { &c.body },
        ),
        None => respond(
            404,
            &[("Content-Type", "application/json".into())],
            b"{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}",
        ),
    }
}
