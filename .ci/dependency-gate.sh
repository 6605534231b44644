#!/usr/bin/env bash
# Non-negotiable 1: the audit-only build (`--no-default-features`) contains no
# HTTP, TLS or socket crate. webpki-roots / rustls-pki-types (pure data) are allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='^(ureq|ureq-proto|reqwest|hyper|hyper-util|h2|tokio|mio|socket2|rustls|native-tls|openssl|curl|isahc|async-std)$'
crates=$(cargo tree --locked -e normal --no-default-features --prefix none --format '{p}' | awk '{print $1}' | sort -u)
bad=$(echo "$crates" | grep -E "$forbidden" || true)
if [ -n "$bad" ]; then
  echo "dependency gate FAILED: the audit-only build pulls in network crates:"; echo "$bad"; exit 1
fi
# Sanity: the gate must see the tree it judges (guards against an empty listing).
echo "$crates" | grep -qx 'sev' || { echo "dependency gate: cargo tree output unexpected"; exit 1; }
echo "dependency gate OK: $(echo "$crates" | wc -l) crates, none networked"

# The TEST-ONLY synthetic platform (cargo feature `test-platform`: code that
# mints SEV-SNP reports with test keys) is never compiled into a normal or
# release build: feature resolution without dev-dependencies (what `cargo
# build [--release]` and `cargo install` use), for both feature sets, must not
# enable it. The module is `#[cfg(feature = "test-platform")]`, so a build
# that does not enable the feature cannot contain its code. (The release
# profile does not change feature resolution.)
for flags in "" "--no-default-features"; do
  # shellcheck disable=SC2086
  feats=$(cargo tree --locked -e features,normal $flags --prefix none -i blyss-evidence)
  echo "$feats" | grep -q '^blyss-evidence v' || { echo "dependency gate: cargo tree output unexpected"; exit 1; }
  if echo "$feats" | grep -q 'feature "test-platform"'; then
    echo "dependency gate FAILED: a normal build ($flags) enables the test-platform feature:"; echo "$feats"; exit 1
  fi
done
# Sanity: the same query with dev-dependencies does see the feature (so the
# check above would notice it).
cargo tree --locked -e features,normal,dev --prefix none -i blyss-evidence | grep -q 'feature "test-platform"' \
  || { echo "dependency gate: cannot see the test-platform feature even with dev-dependencies"; exit 1; }
echo "dependency gate OK: no normal build enables the test-platform feature"
