#!/usr/bin/env bash
# Issue 10's hostile inputs through the phi4 CLI as users run it: a release build (the configuration that ships,
# where a missed check would be silent memory corruption rather than a trap). Every case must end in a clear
# error: exit 1 for a bad file or input, 64 (usage) for an out-of-range option; never a signal, a hang (120 s
# timeout) or a "Fatal error". Cases marked pending (none at present) are reported, not counted.
#
#   tools/fuzz/hostile-cli.sh [PHI4]     PHI4: a phi4 binary (default: build one with swift build -c release)
set -uo pipefail
cd "$(dirname "$0")/../.."
phi4=${1:-}
if [ -z "$phi4" ]; then
  swift build -c release --product phi4 >&2 || exit 2
  phi4="$(swift build -c release --show-bin-path)/phi4"
fi
tiny=Tests/PhiModelsTests/Fixtures/phi4mini-tiny
mm=Tests/PhiModelsTests/Fixtures/phi4mm-tiny
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# check NAME WANT_STATUS FRAGMENT [pending] -- ARGS…: runs phi4 ARGS (stdin from $stdin when set).
check() {
  local name=$1 want=$2 fragment=$3 pending=""; shift 3
  [ "$1" = pending ] && { pending=1; shift; }
  shift  # --
  local status
  timeout "${HOSTILE_TIMEOUT:-120}" "$phi4" "$@" < "${stdin:-/dev/null}" > "$tmp/out" 2> "$tmp/err"
  status=$?
  local why=""
  if [ "$status" = 124 ]; then why="timed out after ${HOSTILE_TIMEOUT:-120} s"
  elif [ "$status" -gt 128 ]; then why="killed by signal $((status - 128))"
  elif [ "$status" != "$want" ]; then why="exit $status, expected $want"
  elif ! grep -qF -- "$fragment" "$tmp/err"; then why="stderr does not mention '$fragment'"
  elif grep -q "Fatal error" "$tmp/err"; then why="Fatal error"
  fi
  if [ -n "$pending" ]; then
    echo "pending  $name: ${why:-ok}"
  elif [ -z "$why" ]; then
    passed=$((passed + 1)); echo "ok       $name"
  else
    failed=$((failed + 1)); echo "FAILED   $name: $why"; sed 's/^/         | /' "$tmp/err" | head -5
  fi
}

# Finding 4: the FLAC decompression bomb (768 kHz mono 16-bit, block 65,535, 84,363 CONSTANT frames, 1.1 MB),
# with the total unknown and declared.
python3 - "$tmp" <<'PY'
import sys
def crc(b, poly, bits):
    c, top, mask = 0, 1 << (bits - 1), (1 << bits) - 1
    for x in b:
        c ^= x << (bits - 8)
        for _ in range(8):
            c = ((c << 1) ^ poly) & mask if c & top else (c << 1) & mask
    return c
def bomb(frames, total):
    head = b"fLaC" + bytes([0x80, 0, 0, 34]) + b"\xff\xff\xff\xff" + bytes(6)
    head += (768000 << 44 | 15 << 36 | total).to_bytes(8, "big") + bytes(16)
    f = bytes([0xFF, 0xF8, 0x70, 0x00, 0x00, 0xFF, 0xFE])
    f += bytes([crc(f, 0x07, 8), 0x00, 0x12, 0x34])
    f += crc(f, 0x8005, 16).to_bytes(2, "big")
    return head + f * frames
open(sys.argv[1] + "/bomb.flac", "wb").write(bomb(84363, 0))
open(sys.argv[1] + "/bomb_declared.flac", "wb").write(bomb(84363, 84363 * 65535))
PY
check "flac bomb (total unknown), transcribe" 1 "samples" -- transcribe --model "$mm" "$tmp/bomb.flac"
check "flac bomb (total declared), transcribe" 1 "samples" -- transcribe --model "$mm" "$tmp/bomb_declared.flac"
check "flac bomb, run --audio" 1 "samples" -- run --model "$mm" --audio "$tmp/bomb.flac" --max-tokens 1 hi
check "flac bomb, --max-audio-seconds 10" 1 "above the limit of 10.0 s" -- transcribe --model "$mm" --max-audio-seconds 10 "$tmp/bomb.flac"

# Finding 5: FIFOs (and devices) named as model, media or text files.
mkfifo "$tmp/model.gguf" "$tmp/speech.wav" "$tmp/photo.jpg" "$tmp/tools.json" "$tmp/text.txt"
mkdir "$tmp/fifo-model" && cp "$tiny"/*.json "$tmp/fifo-model/" && rm -f "$tmp/fifo-model/model.safetensors.index.json"
mkfifo "$tmp/fifo-model/model.safetensors"
check "FIFO .gguf" 1 "FIFO" -- run --model "$tmp/model.gguf" hi
check "FIFO model.safetensors" 1 "FIFO" -- run --model "$tmp/fifo-model" hi
check "FIFO audio, transcribe" 1 "not a regular file: it is a FIFO" -- transcribe --model "$mm" "$tmp/speech.wav"
check "FIFO audio, run --audio" 1 "FIFO" -- run --model "$mm" --audio "$tmp/speech.wav" hi
check "FIFO image, run --image" 1 "FIFO" -- run --model "$mm" --image "$tmp/photo.jpg" hi
check "FIFO --tools" 1 "FIFO" -- run --model "$tiny" --tools "$tmp/tools.json" hi
check "FIFO perplexity --file" 1 "FIFO" -- perplexity --model "$tiny" --file "$tmp/text.txt"
check "FIFO tokenize --jsonl" 1 "FIFO" -- tokenize --model "$tiny" --jsonl "$tmp/text.txt"
check "/dev/zero as audio" 1 "character device" -- transcribe --model "$mm" /dev/zero

# Finding 6: numeric options out of range or not finite.
for v in inf 1e300 nan 0.5; do
  check "--chunk-seconds $v" 64 "--chunk-seconds" -- transcribe --model "$mm" --chunk-seconds "$v" "$tmp/bomb.flac"
done
check "--max-tokens near Int.max" 64 "--max-tokens" -- run --model "$tiny" --max-tokens 9223372036854775000 hi
check "--max-tokens Int.max, transcribe" 64 "--max-tokens" -- transcribe --model "$mm" --max-tokens 9223372036854775807 "$tmp/bomb.flac"
check "--max-audio-seconds inf" 64 "--max-audio-seconds" -- run --model "$mm" --max-audio-seconds inf hi
check "--max-audio-seconds 1e300" 64 "--max-audio-seconds" -- transcribe --model "$mm" --max-audio-seconds 1e300 "$tmp/bomb.flac"
check "--max-crops 0" 64 "--max-crops" -- run --model "$mm" --max-crops 0 hi
check "--max-crops huge" 64 "--max-crops" -- run --model "$mm" --max-crops 4611686018427387904 hi
check "--threads 0" 64 "--threads" -- run --model "$tiny" --threads 0 hi
check "--threads huge" 64 "--threads" -- run --model "$tiny" --threads 9223372036854775807 hi
check "--temperature inf" 64 "temperature" -- run --model "$tiny" --temperature inf hi
check "--top-p nan" 64 "top-p" -- run --model "$tiny" --top-p nan hi
check "bench -p -1" 64 "-p" -- bench --model "$tiny" -p -1
check "bench -n huge" 64 "-n" -- bench --model "$tiny" -n 9223372036854775807
check "bench -r 0" 64 "-r" -- bench --model "$tiny" -r 0
check "bench -t huge" 64 "-t" -- bench --bandwidth -t 4611686018427387904
check "perplexity --ctx huge" 64 "--ctx" -- perplexity --model "$tiny" --file README.md --ctx 9223372036854775807
check "perplexity --chunks 0" 64 "--chunks" -- perplexity --model "$tiny" --file README.md --chunks 0
check "--max-images -1" 64 "--max-images" -- run --model "$mm" --max-images -1 hi
check "--max-image-pixels huge" 64 "--max-image-pixels" -- run --model "$mm" --max-image-pixels 9223372036854775807 hi
check "--top-k huge" 64 "--top-k" -- run --model "$tiny" --top-k 9223372036854775807 hi
check "--repeat-penalty inf" 64 "repetition penalty" -- chat --model "$tiny" --repeat-penalty inf
check "--presence-penalty nan" 64 "presence penalty" -- run --model "$tiny" --presence-penalty nan hi
check "--max-prompt-bytes 0" 64 "--max-prompt-bytes" -- run --model "$tiny" --max-prompt-bytes 0 hi
check "serve --cache-mib huge" 64 "--cache-mib" -- serve --model "$tiny" --port 0 --cache-mib 9223372036854775807
check "serve --max-audio-seconds inf" 64 "--max-audio-seconds" -- serve --model "$tiny" --port 0 --max-audio-seconds inf
check "serve --max-tokens huge" 64 "--max-tokens" -- serve --model "$tiny" --port 0 --max-tokens 9223372036854775807
check "serve --prefill-chunk 0" 64 "--prefill-chunk" -- serve --model "$tiny" --port 0 --prefill-chunk 0

# Finding 7: prompt text size limits (a 114 MB chat line cost 1.6 GB).
check "prompt over --max-prompt-bytes" 1 "--max-prompt-bytes" -- run --model "$tiny" --max-prompt-bytes 100 "$(printf 'x%.0s' {1..200})"
python3 -c "import sys; sys.stdout.write('x' * (9 << 20) + '\n/exit\n')" > "$tmp/chat.txt"
stdin="$tmp/chat.txt" check "9 MB chat line" 0 "above the --max-prompt-bytes limit" -- chat --model "$tiny"

# Finding 1: config.json head counts and head_dim whose products wrap modulo 2^64 to the fixture's real tensor
# sizes (every shape check passed; rotary_avx512 wrote out of bounds).
cp -r Tests/PhiModelsTests/Fixtures/phi4mini-tiny-bf16 "$tmp/heads" && python3 - "$tmp/heads/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c.update(num_attention_heads=456724697139573, num_key_value_heads=152241565713191, head_dim=33849730896608,
         partial_rotary_factor=12 / 33849730896608, rope_scaling=None)
json.dump(c, open(p, "w"))
PY
check "finding 1: config.json head products wrap" 1 "num_attention_heads" -- run --model "$tmp/heads" --max-tokens 2 hi
# The same folder with sizes inside every limit that disagree with the tensors: the error names the fields.
cp -r Tests/PhiModelsTests/Fixtures/phi4mini-tiny-bf16 "$tmp/headdim" && python3 - "$tmp/headdim/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c.update(head_dim=32, rope_scaling=None)
json.dump(c, open(p, "w"))
PY
check "config.json head_dim disagrees with qkv_proj" 1 "head_dim" -- run --model "$tmp/headdim" --max-tokens 2 hi

# Finding 2: a llama GGUF with the fixture's tensors (q/k/v and gate/up split from the fused matrices) whose
# head_count 2^59 + 3 (uint64) times rope.dimension_count 32 wraps to the 96 q rows (phi_rotary_ref overflowed).
python3 - Tests/PhiModelsTests/Fixtures/phi4mini-tiny-bf16/model.safetensors "$tmp" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
GLOBAL = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
LAYER = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.o_proj": "attn_output",
         "mlp.down_proj": "ffn_down"}
tensors = []  # (gguf name, dims in GGUF order, bf16 bytes)
for name, e in sorted(header.items()):
    if name == "__metadata__":
        continue
    a, b = e["data_offsets"]
    blob, shape = data[a:b], e["shape"]
    row = len(blob) // shape[0]
    def put(gguf, r0, r1):
        tensors.append((gguf, list(reversed([r1 - r0] + shape[1:])), blob[r0 * row:r1 * row]))
    if name in GLOBAL:
        put(GLOBAL[name], 0, shape[0]); continue
    i, rest = name.split(".")[2], ".".join(name.split(".")[3:-1])
    if rest == "self_attn.qkv_proj":
        put(f"blk.{i}.attn_q.weight", 0, 96); put(f"blk.{i}.attn_k.weight", 96, 128); put(f"blk.{i}.attn_v.weight", 128, 160)
    elif rest == "mlp.gate_up_proj":
        put(f"blk.{i}.ffn_gate.weight", 0, 128); put(f"blk.{i}.ffn_up.weight", 128, 256)
    else:
        put(f"blk.{i}.{LAYER[rest]}.weight", 0, shape[0])
def s(x):
    x = x.encode(); return struct.pack("<Q", len(x)) + x
def gguf(heads, kv_heads, rope):
    kvs = [("general.architecture", 8, s("llama")), ("llama.context_length", 4, struct.pack("<I", 64)),
           ("llama.embedding_length", 4, struct.pack("<I", 96)), ("llama.feed_forward_length", 4, struct.pack("<I", 128)),
           ("llama.block_count", 4, struct.pack("<I", 3)), ("llama.attention.head_count", 10, struct.pack("<Q", heads)),
           ("llama.attention.head_count_kv", 4, struct.pack("<I", kv_heads)),
           ("llama.rope.dimension_count", 4, struct.pack("<I", rope)),
           ("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5)),
           ("llama.rope.freq_base", 6, struct.pack("<f", 10000.0))]
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += s(k) + struct.pack("<I", t) + v
    offset, blobs = 0, b""
    for name, dims, blob in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", 30, offset)  # 30: BF16
        pad = (-len(blob)) % 32
        blobs += blob + b"\0" * pad
        offset += len(blob) + pad
    return out + b"\0" * ((-len(out)) % 32) + blobs
open(sys.argv[2] + "/llama-heads.gguf", "wb").write(gguf(2**59 + 3, 1, 32))
open(sys.argv[2] + "/llama-sane.gguf", "wb").write(gguf(6, 2, 16))
PY
check "finding 2: llama GGUF head_count 2^59+3" 1 "llama.attention.head_count" -- run --model "$tmp/llama-heads.gguf" --max-tokens 2 hi
# The same file with the true head counts gets past the model (it has no vocabulary, so the tokenizer is what
# fails): the hostile case above fails for its head count alone.
check "llama GGUF with sane heads reaches the tokenizer" 1 "tokenizer" -- run --model "$tmp/llama-sane.gguf" --max-tokens 2 hi

echo "hostile CLI inputs: $passed ok, $failed failed"
[ "$failed" = 0 ]
