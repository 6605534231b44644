#!/usr/bin/env bash
# Real-browser check of the HTML report (issue 8 §5).
#
# Renders the HTML report of the real Blyss bundle (PASS), of a failing audit
# of the same bundle (wrong --signer pin: FAIL) and of a non-production trust
# set, opens each in headless Chromium, saves a screenshot (PNG) and a PDF
# print under target/browser-check/, and asserts for each page that:
#   * the verdict label from the JSON report is in the rendered DOM;
#   * the page requested no resource: Chromium's network log (--log-net-log)
#     shows no request made on behalf of the page (network isolation key
#     file://) to anything but file:/data:, and a static scan of the HTML and
#     of the DOM finds no http(s):// URL, no src=/href= other than a same-page
#     #fragment, no @import, url(), <link>, <script>, <img>, <iframe>, …
# A control page that does reference external resources must be caught by
# the same detectors (so that the check can fail). Nothing leaves the
# machine: Chromium runs with a loopback proxy and a resolver that resolves
# nothing.
#
# Usage: bash scripts/browser-check.sh
#   BIN=path/to/blyss-evidence  binary to use (default: cargo build, target/debug)
#   CHROMIUM=path               browser to use (default: chromium, installed from
#                               Debian with apt-get when missing; needs root)
# Called by tests/suite/report_browser.rs (part of `cargo test`). Takes 15-40 s once
# Chromium is installed (3 pages + a control; 10 browser launches).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
out="$target_dir/browser-check"

fail() { echo "browser-check: FAIL: $*" >&2; exit 1; }

# 1. Chromium.
chromium=${CHROMIUM:-}
if [ -z "$chromium" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    echo "browser-check: installing Debian package chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 || fail "apt-get update failed (root and access to Debian's package archive are needed)"
    apt-get install -y -q chromium >&2 || fail "apt-get install chromium failed"
  fi
  chromium=$(command -v chromium) || fail "chromium is not installed"
fi
"$chromium" --version >/dev/null 2>&1 || fail "$chromium does not run"

# 2. The tool.
bin=${BIN:-}
if [ -z "$bin" ]; then
  cargo build --quiet
  bin="$target_dir/debug/blyss-evidence"
fi
[ -x "$bin" ] || fail "no binary at $bin"

rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export SOURCE_DATE_EPOCH=1706745600
bundle=fixtures/bundles/blyss-2024-01.zip
signer=fixtures/keys/fixture-collector.key.pub
printf '{"schema":"blyss-evidence.trust/v1","name":"test-only-empty","version":"1"}' >"$work/test-only.trust.json"

render() { # name "expected exit codes" audit-args...
  local name=$1 want=$2; shift 2
  local rc=0
  "$bin" audit "$bundle" "$@" --json "$out/$name.json" --html "$out/$name.html" >/dev/null 2>"$work/$name.err" || rc=$?
  case " $want " in *" $rc "*) ;; *) fail "$name: audit exited $rc, expected $want: $(cat "$work/$name.err")" ;; esac
}
render real-pass 0 --scope attestation --signer "$signer"
render real-fail 1 --scope attestation --signer "$(printf 'ab%.0s' $(seq 32))"
# An empty test-only trust set: checks that need anchors fail, so 0 or 1.
render non-production "0 1" --scope attestation --signer "$signer" --trust "$work/test-only.trust.json"

# 3. Chromium, isolated: fresh profile, no network beyond loopback.
browse() { # name action-flag...   (net log in $out/<name>.<action>.netlog.json)
  local name=$1 tag=$2; shift 2
  local profile
  profile=$(mktemp -d "$work/profile.XXXX")
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions --disable-default-apps --no-default-browser-check \
    --user-data-dir="$profile" \
    --host-resolver-rules="MAP * ~NOTFOUND" --proxy-server="http://127.0.0.1:9" \
    --log-net-log="$work/$name.$tag.netlog.json" \
    --window-size=1280,2400 --hide-scrollbars \
    "$@" "file://$out/$name.html" 2>>"$work/$name.chromium.log"
}

page_requests() { # netlog → URLs the page asked for (anything but file:/data:)
  grep '"network_isolation_key":"file://' "$1" \
    | grep -o '"url":"[a-zA-Z][a-zA-Z0-9+.-]*:[^"]*"' \
    | grep -v -E '"url":"(file|data|about|blob):' | sort -u || true
}

static_scan() { # file [raw] → offending snippets
  local f=$1 q="[\"']"
  local tags
  tags=$(grep -o -E '<[a-zA-Z][^>]*>' "$f" || true)
  {
    # Elements that load things.
    printf '%s\n' "$tags" | grep -o -i -E '<(link|script|iframe|object|embed|img|image|base|frame|audio|video|source|track|portal)([[:space:]][^>]*)?>' || true
    # Attributes that load things: only same-page #fragments are allowed.
    printf '%s\n' "$tags" | grep -o -i -E "[[:space:]](src|href|xlink:href|srcset|action|formaction|poster|background|data|ping)[[:space:]]*=[[:space:]]*($q[^\"']*$q|[^[:space:]>]+)" \
      | grep -v -E "=[[:space:]]*$q?#" || true
    printf '%s\n' "$tags" | grep -o -i -E 'http-equiv="?refresh' || true
    # CSS that loads things.
    grep -o -i -E '@import|url[[:space:]]*\(' "$f" || true
    # Our own HTML escapes every `/` in text, so any URL in it is markup.
    if [ "${2:-}" = raw ]; then grep -o -i -E '(https?|ftp|wss?)://[^"'"'"' <>]*' "$f" || true; fi
  } | sort -u
}

check_page() { # name
  local name=$1
  local label
  label=$(sed -n 's/^    "label": "\(.*\)",$/\1/p' "$out/$name.json")
  [ -n "$label" ] || fail "$name: no verdict label in the JSON report"
  # The three loads are independent: run them side by side.
  browse "$name" dom --dump-dom >"$out/$name.dom.html" & local p1=$!
  browse "$name" png --screenshot="$out/$name.png" >/dev/null & local p2=$!
  browse "$name" pdf --print-to-pdf="$out/$name.pdf" --no-pdf-header-footer >/dev/null & local p3=$!
  wait "$p1" || fail "$name: chromium --dump-dom failed (see $work/$name.chromium.log)"
  wait "$p2" || fail "$name: chromium --screenshot failed"
  wait "$p3" || fail "$name: chromium --print-to-pdf failed"
  grep -qF "<span class=\"verdict-text\">$label</span>" "$out/$name.dom.html" \
    || fail "$name: verdict \"$label\" not in the rendered page"
  [ "$(head -c 8 "$out/$name.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$name: no PNG screenshot"
  [ "$(head -c 5 "$out/$name.pdf")" = "%PDF-" ] || fail "$name: no PDF print"
  [ "$(wc -c <"$out/$name.png")" -gt 20000 ] || fail "$name: screenshot suspiciously small (blank page?)"
  local f reqs
  for f in "$work/$name".*.netlog.json; do
    grep -q '"events"' "$f" || fail "$name: Chromium wrote no network log ($f)"
    reqs=$(page_requests "$f")
    [ -z "$reqs" ] || fail "$name: the page requested external resources: $reqs"
  done
  reqs=$(static_scan "$out/$name.html" raw)
  [ -z "$reqs" ] || fail "$name: external reference in $name.html: $reqs"
  reqs=$(static_scan "$out/$name.dom.html")
  [ -z "$reqs" ] || fail "$name: external reference in the rendered DOM: $reqs"
  echo "browser-check: $name ok: verdict \"$label\", no external request; $out/$name.png, $out/$name.pdf"
}

check_page real-pass
check_page real-fail
check_page non-production

# 4. Control: the detectors must catch a page that loads external resources.
cat >"$out/control-external_fail.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>control</title>
<link rel="stylesheet" href="https://external.invalid/x.css"></head>
<body><img src="http://external.invalid/x.png" alt=""></body></html>
EOF
browse control-external_fail dom --dump-dom >/dev/null
[ -n "$(page_requests "$work/control-external_fail.dom.netlog.json")" ] \
  || fail "control: the net-log scan missed the control page's external requests"
[ "$(static_scan "$out/control-external_fail.html" raw | wc -l)" -ge 4 ] \
  || fail "control: the static scan missed the control page's external references"
echo "browser-check: control page with external references detected, as it must be"
echo "browser-check: PASS ($("$chromium" --version 2>/dev/null | head -1))"
