#!/usr/bin/env bash
# sealctl's main job on a fresh machine: seal a token into a profile file, then run a program
# through `sealctl exec` that proves it received the token, without printing it.
# Runs in a scratch HOME: your own profiles and keys are not read or touched.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --locked
sealctl="$PWD/target/debug/sealctl"
demo="$(mktemp -d)"
trap 'rm -rf "$demo"' EXIT
export HOME="$demo" XDG_CONFIG_HOME="$demo/.config"
unset SEALCTL_IDENTITY SEALCTL_IDENTITY_FILE INFLUXCTL_PROFILE
config="$XDG_CONFIG_HOME/influxctl/config.toml"
mkdir -p "$(dirname "$config")"
printf '[[profile]]\n  name = "default"\n  product = "clustered"\n  host = "cluster-host.example.com"\n  port = "443"\n' > "$config"
token="apiv3_demo_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
digest() { printf %s "$1" | sha256sum | cut -c1-16; }

echo "== 1. a new age identity (its recipient):"
"$sealctl" identity new 2>/dev/null
echo "== 2. a demo management token (sha256 $(digest "$token")), sealed into $config:"
printf %s "$token" | "$sealctl" token set 2>/dev/null
grep mgmt_token "$config" | cut -c1-72 | sed 's/$/…/'
if grep -q "$token" "$config"; then echo "the token is in the file in plaintext" >&2; exit 1; fi
echo "== 3. sealctl check (no key needed):"
"$sealctl" check
echo "== 4. a program run through sealctl exec receives it:"
received="$("$sealctl" exec --env TOKEN=mgmt_token -- sh -c 'printf %s "$TOKEN" | sha256sum | cut -c1-16')"
echo "received a token with sha256 $received"
[ "$received" = "$(digest "$token")" ] || { echo "it is not the token that was sealed" >&2; exit 1; }
echo "== 5. and influxctl gets a config with the token opened, in memory, never on disk:"
# influxctl cannot be installed here: a few lines of shell stand in for it, showing what it is given.
mkdir -p "$demo/bin"
cat > "$demo/bin/influxctl" <<'SH'
#!/bin/sh
echo "influxctl $*"
echo "its config, $2 -> $(readlink "$2")"
printf 'holds the token with sha256 %s\n' "$(sed -n 's/^ *mgmt_token = "\(.*\)"$/\1/p' "$2" | tr -d '\n' | sha256sum | cut -c1-16)"
SH
chmod +x "$demo/bin/influxctl"
PATH="$demo/bin:$PATH" "$sealctl" exec -- influxctl database list
echo "== the token reached the program, and no file holds it in plaintext."
