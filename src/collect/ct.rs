//! Certificate Transparency collection (owned by the CT engineer, issue 6).
//!
//! Plug-in point: the orchestrator ([`super::collect`]) calls [`collect`]
//! once, on its own thread, as soon as the first TLS handshake is captured
//! (concurrently with the attestation document, KDS and image fetches).
//!
//! Contract:
//! * fetch with `ctx.fetch(label, &Request)` (deadlines, retries, size cap,
//!   progress display) or `ctx.http` directly;
//! * store every response byte-exact under `evidence/ct/…` with
//!   `out.add_response("ct/…", &resp, ctx.now())` or `out.add(path, bytes, source)`
//!   (paths are relative to `evidence/`);
//! * a resource that cannot be fetched is `out.failed(label, url, cause)` /
//!   `out.failed_http(label, &err)` (a signed collection warning; fatal
//!   under `--strict`), never silently dropped; `out.warn(msg)` for anything
//!   else a reviewer should read;
//! * `ctx.options.log_list_url` is `--log-list-url` (None: the default list);
//! * concurrency per log: `std::thread::scope` is fine — `Evidence` and
//!   `CollectCtx` are `Sync`, the client bounds requests in flight.
//!
//! `tls.second` is `None` here (the second handshake happens later).

use super::tls::TlsCapture;
use super::{CollectCtx, Evidence};

/// Collects CT evidence for the captured leaf. Stub: collects nothing yet.
pub fn collect(ctx: &CollectCtx, tls: &TlsCapture, out: &Evidence) {
    let _ = (ctx, tls, out);
}
