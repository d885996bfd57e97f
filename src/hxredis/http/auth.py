"""Users, the SCRAM-SHA-256 handshake and bearer sessions, all kept in Redis (http.md §2).

Every piece of state lives in Redis under ``{prefix}:{{db}}:http:``, so any worker process can
answer any step of a handshake and accept any session token:

* ``user:<name>``: hash of ``salt``, ``iterations``, ``stored_key``, ``server_key`` (SCRAM's
  StoredKey and ServerKey, never the password), ``role`` and ``disabled``; ``users`` is the
  set of names;
* ``hs:<token>``: a pending handshake (60 s);
* ``session:<token>``: a bearer session (user and role) with an idle expiry; ``sessions:<user>``
  lists a user's sessions so that changing or removing the user ends them;
* ``fail:<user>``: failed logins in the current window (rate limit);
* ``secret``: random bytes for the stable fake salt of unknown users.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

import redis

from ..redis_errors import redis_failures

__all__ = [
    "ROLES",
    "AuthFailed",
    "AuthReply",
    "Session",
    "UserStore",
    "http_key_base",
    "parse_auth_header",
]

ROLES = ("viewer", "operator", "admin")
ITERATIONS = 10_000
HANDSHAKE_TTL_MS = 60_000
MAX_FAILURES = 5  # failed logins per user and window before logins are refused
FAILURE_WINDOW_S = 60
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def http_key_base(prefix: str, name: str) -> str:
    """The Redis key prefix of the HTTP server's state for database ``name``."""
    return f"{prefix}:{{{name}}}:http"


class AuthFailed(Exception):
    """A handshake or token refused: ``status`` 400 (malformed) or 403 (refused)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Session:
    """An authenticated caller: the token, the user name and the role."""

    token: str
    user: str
    role: str


@dataclass(frozen=True)
class AuthReply:
    """A handshake step's answer: the status (401 or 200) and its headers."""

    status: int
    headers: dict[str, str]


def _b64decode(text: str) -> bytes:
    """Base64 or base64url, padded or not (http.md §2.4)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise AuthFailed(400, "Invalid base64 in the Authorization header") from None


def _b64url(data: bytes) -> str:
    """Base64url without padding, as the spec asks for server ``data=`` values."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def parse_auth_header(header: str) -> tuple[str, dict[str, str]]:
    """The upper-cased scheme and the parameters of an ``Authorization`` header.
    Raises AuthFailed(400) for a malformed one."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for part in rest.split(","):
        if not part.strip():
            continue
        key, eq, val = part.partition("=")
        if not eq:
            raise AuthFailed(400, "Malformed Authorization header")
        params[key.strip()] = val.strip()
    return scheme.upper(), params


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def scram_keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    """SCRAM-SHA-256's (StoredKey, ServerKey) of a password (RFC 5802, RFC 7677)."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations, 32)
    stored_key = hashlib.sha256(_hmac(salted, b"Client Key")).digest()
    return stored_key, _hmac(salted, b"Server Key")


def check_user_name(name: str) -> str:
    """``name`` if it is a usable user name (1-64 of ``A-Za-z0-9_.@-``), else ValueError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"invalid user name {name!r}: use 1 to 64 characters of A-Z a-z 0-9 _.@-")
    return name


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else ValueError."""
    if role not in ROLES:
        raise ValueError(f"invalid role {role!r}: use one of {', '.join(ROLES)}")
    return role


class UserStore:
    """Users, handshakes and sessions of one database's HTTP server, in Redis.

    ``session_ttl`` is the idle expiry of a bearer token in seconds.  Redis failures raise
    the hxredis Redis errors (``hx.ConnectionError`` ...).
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        name: str,
        *,
        session_ttl: float = 3600.0,
        iterations: int = ITERATIONS,
    ) -> None:
        if session_ttl <= 0:
            raise ValueError(f"session_ttl must be positive, not {session_ttl!r}")
        if iterations < 4096:
            raise ValueError(f"iterations must be at least 4096, not {iterations!r}")
        self._client = client
        self._base = http_key_base(prefix, name)
        self._ttl_ms = max(1, int(session_ttl * 1000))
        self._iterations = iterations
        self._where = name

    def _key(self, *parts: str) -> str:
        return ":".join([self._base, *parts])

    # -- users -----------------------------------------------------------------------------------

    def add(self, user: str, password: str, role: str = "viewer") -> None:
        """Create ``user`` with a password and a role; ValueError if it exists or is invalid."""
        check_user_name(user)
        check_role(role)
        with redis_failures(self._where):
            if self._client.exists(self._key("user", user)):
                raise ValueError(f"user {user!r} already exists")
            self._write(user, password, {"role": role, "disabled": "0"})

    def _write(self, user: str, password: str, extra: dict[str, str]) -> None:
        if not isinstance(password, str) or not password:
            raise ValueError("the password must not be empty")
        salt = secrets.token_bytes(32)
        stored_key, server_key = scram_keys(password, salt, self._iterations)
        fields = {
            "salt": _b64(salt),
            "iterations": str(self._iterations),
            "stored_key": _b64(stored_key),
            "server_key": _b64(server_key),
            **extra,
        }
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self._key("user", user), mapping=fields)
        pipe.sadd(self._key("users"), user)
        pipe.execute()

    def passwd(self, user: str, password: str) -> None:
        """Set ``user``'s password and end its sessions; ValueError for an unknown user."""
        self._require(user)
        with redis_failures(self._where):
            self._write(user, password, {})
            self.end_sessions(user)

    def set_disabled(self, user: str, disabled: bool) -> None:
        """Disable (ending its sessions) or enable ``user``; ValueError for an unknown user."""
        self._require(user)
        with redis_failures(self._where):
            self._client.hset(self._key("user", user), "disabled", "1" if disabled else "0")
            if disabled:
                self.end_sessions(user)

    def remove(self, user: str) -> None:
        """Remove ``user`` and end its sessions; ValueError for an unknown user."""
        self._require(user)
        with redis_failures(self._where):
            self.end_sessions(user)
            self._client.delete(self._key("user", user))
            self._client.srem(self._key("users"), user)

    def list(self) -> list[dict[str, Any]]:
        """Every user as ``{"user", "role", "disabled"}``, sorted by name."""
        with redis_failures(self._where):
            names = sorted(n.decode() for n in self._client.smembers(self._key("users")))
            out = []
            for name in names:
                rec = self._user(name)
                if rec is not None:
                    out.append(
                        {"user": name, "role": rec["role"], "disabled": rec["disabled"] == "1"}
                    )
            return out

    def _user(self, user: str) -> dict[str, str] | None:
        raw = self._client.hgetall(self._key("user", user))
        return {k.decode(): v.decode() for k, v in raw.items()} if raw else None

    def _require(self, user: str) -> None:
        check_user_name(user)
        with redis_failures(self._where):
            if not self._client.exists(self._key("user", user)):
                raise ValueError(f"unknown user {user!r}")

    # -- sessions --------------------------------------------------------------------------------

    def session(self, token: str) -> Session | None:
        """The live session of a bearer token (renewing its idle expiry), or None."""
        if not token or len(token) > 200:
            return None
        key = self._key("session", token)
        with redis_failures(self._where):
            pipe = self._client.pipeline(transaction=False)
            pipe.hmget(key, "user", "role")
            pipe.pexpire(key, self._ttl_ms)
            (user, role), _ = pipe.execute()
        if user is None or role is None:
            return None
        return Session(token, user.decode(), role.decode())

    def end_session(self, token: str) -> None:
        """End a session (the ``close`` op)."""
        with redis_failures(self._where):
            user = self._client.hget(self._key("session", token), "user")
            self._client.delete(self._key("session", token))
            if user is not None:
                self._client.srem(self._key("sessions", user.decode()), token)

    def end_sessions(self, user: str) -> None:
        """End every session of ``user``."""
        with redis_failures(self._where):
            tokens = self._client.smembers(self._key("sessions", user))
            keys = [self._key("session", t.decode()) for t in tokens]
            self._client.delete(self._key("sessions", user), *keys)

    def _open_session(self, user: str, role: str) -> str:
        token = secrets.token_urlsafe(32)
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self._key("session", token), mapping={"user": user, "role": role})
        pipe.pexpire(self._key("session", token), self._ttl_ms)
        pipe.sadd(self._key("sessions", user), token)
        pipe.execute()
        return token

    # -- the SCRAM handshake ---------------------------------------------------------------------

    def handshake(self, scheme: str, params: dict[str, str]) -> AuthReply:
        """Answer one handshake step (``HELLO`` or ``SCRAM``): 401 with ``WWW-Authenticate``
        for HELLO and client-first, 200 with ``Authentication-Info`` for a good client-final.
        Raises AuthFailed: 400 for malformed input, 403 for a refused login."""
        with redis_failures(self._where):
            if scheme == "HELLO":
                return self._hello(params)
            if scheme == "SCRAM":
                token = params.get("handshakeToken", "")
                if "data" not in params or not re.fullmatch(r"[0-9a-f]{32}", token):
                    raise AuthFailed(400, "SCRAM needs data and handshakeToken")
                state = self._client.hgetall(self._key("hs", token))
                if not state:
                    raise AuthFailed(403, "Unknown or expired handshake")
                state = {k.decode(): v.decode() for k, v in state.items()}
                message = _b64decode(params["data"]).decode("utf-8", "replace")
                if "server_first" not in state:
                    return self._first(token, state, message)
                return self._final(token, state, message)
        raise AuthFailed(400, f"Unsupported auth scheme {scheme}")

    def _hello(self, params: dict[str, str]) -> AuthReply:
        if "username" not in params:
            raise AuthFailed(400, "HELLO needs username")
        user = _b64decode(params["username"]).decode("utf-8", "replace")
        if not user:
            raise AuthFailed(400, "HELLO needs a username")
        token = secrets.token_hex(16)
        key = self._key("hs", token)
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(key, mapping={"user": user})
        pipe.pexpire(key, HANDSHAKE_TTL_MS)
        pipe.execute()
        return AuthReply(401, {"WWW-Authenticate": f"SCRAM handshakeToken={token}, hash=SHA-256"})

    def _salt(self, user: str, rec: dict[str, str] | None) -> tuple[bytes, int]:
        if rec is not None:
            return base64.b64decode(rec["salt"]), int(rec["iterations"])
        secret_key = self._key("secret")
        self._client.set(secret_key, secrets.token_bytes(32), nx=True)
        secret = self._client.get(secret_key) or b""
        return _hmac(secret, user.encode())[:32], self._iterations

    def _first(self, token: str, state: dict[str, str], message: str) -> AuthReply:
        m = re.fullmatch(r"n,,n=([^,]*),r=([\x21-\x2b\x2d-\x7e]+)", message)
        if m is None or m.group(1) != state["user"]:
            raise AuthFailed(400, "Malformed SCRAM client-first message")
        user, cnonce = m.group(1), m.group(2)
        salt, iterations = self._salt(user, self._user(user))
        nonce = cnonce + secrets.token_hex(16)
        server_first = f"r={nonce},s={_b64(salt)},i={iterations}"
        self._client.hset(
            self._key("hs", token),
            mapping={
                "client_first_bare": message[3:],
                "server_first": server_first,
                "nonce": nonce,
            },
        )
        www = f"SCRAM handshakeToken={token}, hash=SHA-256, data={_b64url(server_first.encode())}"
        return AuthReply(401, {"WWW-Authenticate": www})

    def _final(self, token: str, state: dict[str, str], message: str) -> AuthReply:
        self._client.delete(self._key("hs", token))
        m = re.fullmatch(r"c=([^,]*),r=([^,]*),p=([A-Za-z0-9+/=]+)", message)
        if m is None:
            raise AuthFailed(400, "Malformed SCRAM client-final message")
        user = state["user"]
        if m.group(1) != "biws" or m.group(2) != state["nonce"]:
            raise AuthFailed(403, "SCRAM nonce or channel binding mismatch")
        fail_key = self._key("fail", user)
        failures = int(self._client.get(fail_key) or 0)
        rec = self._user(user)
        proof = _b64decode(m.group(3))
        auth_message = ",".join(
            [state["client_first_bare"], state["server_first"], message[: message.rindex(",p=")]]
        ).encode()
        ok = False
        if rec is not None and failures < MAX_FAILURES and len(proof) == 32:
            stored_key = base64.b64decode(rec["stored_key"])
            client_key = bytes(
                a ^ b for a, b in zip(proof, _hmac(stored_key, auth_message), strict=False)
            )
            ok = hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)
        if not ok or rec is None:
            pipe = self._client.pipeline(transaction=True)
            pipe.incr(fail_key)
            pipe.expire(fail_key, FAILURE_WINDOW_S)
            pipe.execute()
            raise AuthFailed(403, "Authentication failed")
        if rec["disabled"] == "1":
            raise AuthFailed(403, "Authentication failed")
        self._client.delete(fail_key)
        signature = _hmac(base64.b64decode(rec["server_key"]), auth_message)
        session = self._open_session(user, rec["role"])
        data = _b64url(f"v={_b64(signature)}".encode())
        return AuthReply(
            200, {"Authentication-Info": f"authToken={session}, hash=SHA-256, data={data}"}
        )
