#!/usr/bin/env bash
# Regenerate the crypto vectors with two independent implementations, when Python and
# Node are at hand. The tests read only the committed JSON (no Python or Node at test time).
#
#   pip install wechatpy==2.0.0a26 && npm install @wecom/crypto@1.0.1 (in this folder)
#   bash tools/crypto-vectors/generate.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
out="$root/crates/wecom-kf-types/tests/fixtures/callback"
mkdir -p "$out"
ours="$(mktemp)"
cargo run -q --manifest-path "$root/Cargo.toml" -p wecom-kf-types --features callback --example crypto_vectors > "$ours"
python3 "$here/wechatpy_vectors.py" < "$ours" > "$out/wechatpy.json"
NODE_PATH="${NODE_PATH:-$here/node_modules}" node "$here/wecom_crypto_vectors.mjs" < "$ours" > "$out/wecom-crypto.json"
rm -f "$ours"
echo "wrote $out/wechatpy.json and $out/wecom-crypto.json"
