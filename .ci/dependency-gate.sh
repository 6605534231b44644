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
