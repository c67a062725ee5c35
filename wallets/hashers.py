"""The PIN hasher: a keyed HMAC, because slowness cannot protect a six-digit secret.

A PBKDF2 hash of a PIN falls to a million guesses offline however slow it is, and at
city scale (30,000 notices a run) the slowness itself is the cost. Keyed with
PIN_HASH_KEY, which lives in the environment and never in the database, a stolen
database alone reveals no PIN, and a hash costs microseconds. Terminal passwords (8 digits, behind
a set-up lock) are hashed with it for the same reasons.
"""

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare


class PinHasher(BasePasswordHasher):
    algorithm = "pin_hmac"

    def _digest(self, password: str, salt: str) -> str:
        key = settings.PIN_HASH_KEY.encode()
        return hmac.new(key, f"{salt}${password}".encode(), hashlib.sha256).hexdigest()

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        return f"{self.algorithm}${salt}${self._digest(password, salt)}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"], show=2),
            "hash": mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password, encoded):
        pass
