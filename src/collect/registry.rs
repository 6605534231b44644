//! Container registry collection (owned by the images engineer, issue 7).
//!
//! Plug-in point: the orchestrator ([`super::collect`]) calls [`collect`]
//! once, on its own thread, as soon as the attestation document is fetched
//! and parsed (concurrently with KDS, CT and the second TLS handshake).
//!
//! Contract:
//! * fetch with `ctx.fetch(label, &Request)` or `ctx.http.get(&Request)`;
//!   `Request::accept_status(401)` returns the 401 (with `WWW-Authenticate`)
//!   instead of an error, for the anonymous bearer-token flow; 429 is
//!   retried by the client (honouring `Retry-After`);
//! * store exact bytes under `evidence/images/…` with
//!   `out.add_response("images/…", &resp, ctx.now())` or `out.add(..)`
//!   (paths are relative to `evidence/`);
//! * failures: `out.failed(label, url, cause)` / `out.failed_http(label, &err)`;
//!   `out.warn(msg)` for findings worth a signed warning;
//! * `ctx.options.registry_mirrors` is `--registry-mirror HOST=URL`, in the
//!   order given (`ctx.registry_base(host)` applies it).

use crate::evidence::attestation::AttestationDocument;

use super::{CollectCtx, Evidence};

/// Collects registry evidence for every image the document's command line
/// pins. Stub: collects nothing yet.
pub fn collect(ctx: &CollectCtx, doc: &AttestationDocument, out: &Evidence) {
    let _ = (ctx, doc, out);
}
