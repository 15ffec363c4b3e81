"""A real S3-protocol server for the tests: moto's standalone server (`python -m moto.server`)
on 127.0.0.1 and a free port, started by the test itself (no external service needed, so
these tests run in both CI runs).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import msgspec

STARTUP_TIMEOUT = 30.0
ACCESS_KEY = "facteur-test"
SECRET_KEY = "facteur-test-secret"
REGION = "eu-west-3"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class S3Server:
    endpoint_url: str
    process: subprocess.Popen
    log_path: Path

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        name = f"facteur-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def env(self, bucket: str) -> dict[str, str]:
        """The FACTEUR_S3_* variables of a host using this bucket."""
        return {"FACTEUR_S3_BUCKET": bucket, "FACTEUR_S3_ENDPOINT_URL": self.endpoint_url, "FACTEUR_S3_REGION": REGION,
                "FACTEUR_S3_ACCESS_KEY_ID": ACCESS_KEY, "FACTEUR_S3_SECRET_ACCESS_KEY": SECRET_KEY}

    def settings(self, settings, bucket: str):
        """The test run's settings, with stored files in this bucket."""
        return msgspec.structs.replace(settings, s3_bucket=bucket, s3_endpoint_url=self.endpoint_url, s3_region=REGION,
                                       s3_access_key_id=ACCESS_KEY, s3_secret_access_key=SECRET_KEY)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_s3_server(folder: Path) -> S3Server:
    port = _free_port()
    log_path = folder / f"moto-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(server.endpoint_url + "/", timeout=2):
                return server
        except urllib.error.HTTPError:  # an answer, whatever it says: the server listens
            return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"moto server did not answer within {STARTUP_TIMEOUT} s:\n{log_path.read_text()}")
        time.sleep(0.2)
