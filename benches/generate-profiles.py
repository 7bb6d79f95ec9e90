#!/usr/bin/env python3
"""Writes realistic, clean influxctl profile files for the check benchmark.

usage: generate-profiles.py DIR FILES PROFILES_PER_FILE

Each profile is Clustered or Dedicated in turn, with comments, a sealed token bound to its endpoint, and TLS or OAuth2
settings on some, so that every rule has work to do; the files are clean, so `check` prints only
its summary line and the time measured is the time spent checking.
"""
import base64
import hashlib
import json
import pathlib
import sys
import uuid

AGE = base64.b64encode(b"age-encryption.org/v1\n-> X25519 bench\n" + bytes(range(64)) + b"\n--- mac\n" + bytes(48)).decode()


def endpoint_digest(endpoint: dict) -> str:
    """The `ep=` parameter of a value bound to `endpoint` (docs/sealed-values.md, The endpoint)."""
    text = json.dumps(endpoint, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def profile(n: int) -> str:
    name = "default" if n == 0 else f"profile-{n}"
    if n % 2 == 0:
        endpoint = {
            "product": "clustered",
            "host": f"cluster-{n}.example.com",
            "port": str(1024 + n % 60000),
        }
        body = (
            f'  product = "clustered"\n'
            f'  host = "cluster-{n}.example.com"\n'
            f'  port = "{1024 + n % 60000}"\n'
        )
    else:
        endpoint = {
            "product": "dedicated",
            "port": "443",
            "account_id": str(uuid.UUID(int=n)),
            "cluster_id": str(uuid.UUID(int=n * 7919)),
        }
        body = (
            f'  product = "dedicated"\n'
            f'  account_id = "{uuid.UUID(int=n)}"\n'
            f'  cluster_id = "{uuid.UUID(int=n * 7919)}"\n'
            f'  database = "telemetry_{n}"\n'
        )
    extra = ""
    if n % 3 == 0:
        extra = '\n  [profile.tls]\n    ca = "/etc/ssl/certs/internal-ca.pem"\n'
    elif n % 5 == 0:
        extra = (
            "\n  [profile.auth.oauth2]\n"
            '    client_id = "sealctl"\n'
            '    scopes = ["openid"]\n'
            '    token_url = "https://login.example.com/oauth/token"\n'
        )
    return (
        f"# profile {n}: owned by team {n % 17}\n[[profile]]\n"
        f'  name = "{name}"\n{body}'
        f'  mgmt_token = "sealctl:v1:age:{AGE};r=1a2b3c4d;ep={endpoint_digest(endpoint)}"\n{extra}\n'
    )


def main() -> None:
    folder, files, per_file = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        text = "".join(profile(n) for n in range(per_file))
        (folder / f"influxctl-{f:05}.toml").write_text(text)


if __name__ == "__main__":
    main()
