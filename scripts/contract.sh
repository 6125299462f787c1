#!/usr/bin/env bash
# The OpenAPI contract test: schemathesis drives a real `sealscribe serve`
# (embedded backend, temporary data directory, free port) from the document
# it serves at /v3/openapi.json, and fails on any 5xx, any response that does
# not match the documented schema, status code or content type.
#
#   scripts/contract.sh             build the debug binary if needed, run
#   scripts/contract.sh --install   only install schemathesis (scripts/setup.sh --test)
#
# SEALSCRIBE_BIN: a sealscribe binary to use instead of building one.
# SEALSCRIBE_CONTRACT_EXAMPLES (default 25) and SEALSCRIBE_CONTRACT_MAX_TIME
# (seconds, default 180) bound the run; SEALSCRIBE_CONTRACT_REPORT keeps the
# NDJSON report of every request in that directory; SEALSCRIBE_CONTRACT_ARGS
# adds schemathesis options (e.g. `--include-path-regex progress --phases fuzzing`).
#
# So that operations on a media item or key see real ids (not only 404s),
# public keys and short tones (plain and encrypted) are uploaded and processed
# first; schemathesis draws `{id}` from them half of the time.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/sealscribe/venv-schemathesis-$SCHEMATHESIS_VERSION"
if [[ ! -x "$venv/bin/schemathesis" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
[[ "${1:-}" == "--install" ]] && exit 0

if [[ -n "${SEALSCRIBE_BIN:-}" ]]; then
  bin="$SEALSCRIBE_BIN"
else
  cargo build -q -p sealscribe
  bin="${CARGO_TARGET_DIR:-target}/debug/sealscribe"
fi

work=$(mktemp -d -t sealscribe-contract.XXXXXX)
server=""
cleanup() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export SEALSCRIBE_DATA_DIR="$work/data"
unset SEALSCRIBE_DATABASE_URL SEALSCRIBE_BLOB_STORE SEALSCRIBE_S3_ENDPOINT
token=$("$bin" accounts create contract)

# Callbacks and mediaUrls schemathesis makes up must not wait long on hosts
# that do not answer (private addresses are refused outright).
"$bin" serve --listen 127.0.0.1:0 --workers 1 --callback-retry-delays "" \
  --callback-timeout-secs 2 --media-url-timeout-secs 5 \
  >"$work/stdout" 2>"$work/server.log" &
server=$!
base=""
for _ in $(seq 1200); do
  base=$(sed -n 's/^sealscribe listening on //p' "$work/stdout")
  [[ -n "$base" ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$base" ]] || { echo "contract: the server did not start" >&2; exit 1; }

# Real ids: two keys (one to delete) and three processed tones: plain,
# encrypted to the key, and one to delete.
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch -q --pinentry-mode loopback --passphrase '' \
  --quick-gen-key 'sealscribe contract <contract@example.invalid>' rsa2048 default never 2>/dev/null
gpg --batch -q --pinentry-mode loopback --passphrase '' \
  --quick-add-key "$(gpg --list-keys --with-colons | awk -F: '/^fpr/ {print $10; exit}')" rsa2048 encr never 2>/dev/null
gpg --armor --export >"$work/key.asc"
api() { curl -sfS -H "Authorization: Bearer $token" "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# Each answer is kept (answer-NAME.json, for contract-validate.py below).
upload_key() {
  api --data-binary @"$work/key.asc" -H 'Content-Type: application/octet-stream' \
    "$base/v3/security/public-keys" | tee "$work/answer-$1.json" | field publicKeyId
}
key_id=$(upload_key key)
doomed_key_id=$(upload_key doomed-key)
create_api_key() {
  api -H 'Content-Type: application/json' -d '{"scope": "media:get"}' "$base/v3/profile/keys" |
    tee "$work/answer-$1.json" | field id
}
api_key_id=$(create_api_key api-key)
doomed_api_key_id=$(create_api_key doomed-api-key)
python3 -c '
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000))) for i in range(16000)))
' "$work/tone.wav"
upload_media() {
  local name=$1
  shift
  api -F "media=@$work/tone.wav;type=audio/wav" "$@" "$base/v3/media" |
    tee "$work/answer-$name.json" | field mediaId
}
media_id=$(upload_media media -F 'metadata={"title":"contract","externalId":"contract-1"};type=application/json')
encrypted_id=$(upload_media encrypted -F "configuration={\"encryption\":{\"publicKeyId\":\"$key_id\"}};type=application/json")
doomed_media_id=$(upload_media doomed-media)
# Processing finished: transcripts, streams and the encrypted document exist.
for id in "$media_id" "$encrypted_id" "$doomed_media_id"; do
  for _ in $(seq 600); do
    case $(api "$base/v3/media/$id" | field status) in finished | failed) break ;; esac
    sleep 0.2
  done
done

# `{id}` is drawn half of the time from real ids: reads and updates from the
# ones that stay, deletions from their own (gone after the first use).
cat >"$work/schemathesis.toml" <<TOML
[dictionaries.ids]
values = ["$key_id", "$media_id", "$encrypted_id"]
[dictionaries.doomed]
values = ["$doomed_key_id", "$doomed_media_id"]
[dictionaries.api_keys]
values = ["$api_key_id"]
[dictionaries.doomed_api_keys]
values = ["$doomed_api_key_id"]
[dictionaries.streams]
values = ["original", "redacted", "original-encrypted", "redacted-audio"]
[dictionaries.formats]
values = ["json", "text", "srt", "webvtt", "vtt", "dfxp"]

[parameters]
"path.name" = { dictionary = "streams", probability = 0.5 }
"path.format" = { dictionary = "formats", probability = 0.5 }

[[operations]]
include-method = ["GET", "POST", "PUT"]
parameters = { "path.id" = { dictionary = "ids", probability = 0.5 }, "path.keyId" = { dictionary = "api_keys", probability = 0.5 } }

[[operations]]
include-method = "DELETE"
parameters = { "path.id" = { dictionary = "doomed", probability = 0.5 }, "path.keyId" = { dictionary = "doomed_api_keys", probability = 0.5 } }
TOML

# schemathesis never gets a 200 from these uploads (its media are not audio):
# check the set-up answers against the document here.
curl -sfS "$base/v3/openapi.json" >"$work/openapi.json"
"$venv/bin/python" scripts/contract-validate.py "$work/openapi.json" \
  POST /v3/security/public-keys 200 "$work/answer-key.json" \
  POST /v3/security/public-keys 200 "$work/answer-doomed-key.json" \
  POST /v3/profile/keys 200 "$work/answer-api-key.json" \
  POST /v3/media 200 "$work/answer-media.json" \
  POST /v3/media 200 "$work/answer-encrypted.json" \
  POST /v3/media 200 "$work/answer-doomed-media.json"

checks=not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
report=$(realpath -m "${SEALSCRIBE_CONTRACT_REPORT:-$work/report}")
started=$(date +%s)
status=0
# From the temporary directory: schemathesis keeps a cache (.schemathesis/) in the current one.
(cd "$work" && "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/v3/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks "$checks" \
  --workers 1 \
  --max-examples "${SEALSCRIBE_CONTRACT_EXAMPLES:-25}" \
  --max-time "${SEALSCRIBE_CONTRACT_MAX_TIME:-180}" \
  --request-timeout 30 \
  --seed "${SEALSCRIBE_CONTRACT_SEED:-1}" \
  --report ndjson --report-dir "$report" \
  ${SEALSCRIBE_CONTRACT_ARGS:-}) \
  || status=$?
echo "contract: schemathesis took $(($(date +%s) - started)) s (exit $status)"
if ((status != 0)); then
  echo "contract: server errors in the log:" >&2
  grep -E 'ERROR|panicked' "$work/server.log" | tail -20 >&2 || true
fi
exit "$status"
