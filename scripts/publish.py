#!/usr/bin/env python3
"""Upload the Lambda zips `make package` built to S3, each with its hash, so that
a machine without Rust can plan and apply the module from S3:

    s3://BUCKET/PREFIX<architecture>/<function>/bootstrap.zip
    s3://BUCKET/PREFIX<architecture>/<function>/bootstrap.zip.base64sha256

The second object is the zip's base64-encoded SHA-256 (what Terraform's
filebase64sha256 computes and Lambda reports as CodeSha256), stored as
text/plain so the module can read it (data "aws_s3_object" reads only text
bodies) and pass it as source_code_hash: a new build under the same prefix
deploys on the next apply, an unchanged one does not.

Usage: publish.py --bucket BUCKET [--prefix PREFIX] [--region REGION]
                  [ARCH=DIR ...]   (default: arm64=target/lambda x86_64=target/lambda-x86_64)

Architectures whose directory does not exist are skipped with a note; a
directory that exists but lacks a function's zip is an error. Credentials,
region and endpoint come from the usual AWS environment (AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL...).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
from pathlib import Path

FUNCTIONS = ("ecs-event-handler", "rollout-sweeper", "slack-notifier")
DEFAULT_DIRS = {"arm64": "target/lambda", "x86_64": "target/lambda-x86_64"}


def base64sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True, help="S3 bucket to upload to")
    parser.add_argument("--prefix", default="", help='key prefix, empty or ending with "/", for example rollout-watcher/1.0.0/')
    parser.add_argument("--region", default=None, help="region of the bucket (default: from the environment)")
    parser.add_argument("dirs", nargs="*", metavar="ARCH=DIR", help="architecture and the directory holding its zips")
    args = parser.parse_args(argv)
    if args.prefix and (not args.prefix.endswith("/") or args.prefix.startswith("/")):
        parser.error(f"--prefix {args.prefix!r}: must be empty or end with '/' and not start with one (the module's lambda_package.s3_key_prefix)")
    pairs = {}
    for item in args.dirs:
        arch, sep, directory = item.partition("=")
        if not sep or arch not in DEFAULT_DIRS or not directory:
            parser.error(f"{item!r}: expected arm64=DIR or x86_64=DIR")
        pairs[arch] = directory
    args.dirs = pairs or dict(DEFAULT_DIRS)
    return args


def plan_uploads(dirs: dict[str, str], prefix: str) -> list[tuple[Path, str, str]]:
    """(zip, key, hash) for every function of every architecture that was built."""
    uploads, problems = [], []
    for arch, directory in dirs.items():
        root = Path(directory)
        if not root.is_dir():
            print(f"publish: {arch}: no {root}/ (not built), skipped", file=sys.stderr)
            continue
        for function in FUNCTIONS:
            zip_path = root / function / "bootstrap.zip"
            if not zip_path.is_file():
                problems.append(f"{zip_path}: missing (run `make package`)")
                continue
            uploads.append((zip_path, f"{prefix}{arch}/{function}/bootstrap.zip", base64sha256(zip_path)))
    if problems:
        raise SystemExit("publish: " + "; ".join(problems))
    if not uploads:
        raise SystemExit(f"publish: nothing to upload: none of {', '.join(str(Path(d)) for d in dirs.values())} exists (run `make package`)")
    return uploads


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    uploads = plan_uploads(args.dirs, args.prefix)
    import boto3  # after the checks, so that a usage error needs no AWS setup

    s3 = boto3.client("s3", region_name=args.region)
    for zip_path, key, digest in uploads:
        # The zip first, then its hash: a reader that sees the new hash finds the new zip.
        with zip_path.open("rb") as body:
            s3.put_object(Bucket=args.bucket, Key=key, Body=body, ContentType="application/zip", Metadata={"base64sha256": digest})
        s3.put_object(Bucket=args.bucket, Key=f"{key}.base64sha256", Body=digest.encode("ascii"), ContentType="text/plain")
        print(f"s3://{args.bucket}/{key}  {zip_path.stat().st_size} bytes  base64sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
