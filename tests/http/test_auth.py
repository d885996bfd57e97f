"""Authentication and roles: SCRAM against the spec's vectors, roles, token expiry and
close, disabled users, the failed-login limit, the user commands, and no secret in any log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import urllib.error
import uuid
from collections.abc import Callable

import httpx
import pytest
from click.testing import CliRunner
from http_util import PASSWORDS, Served, add_users, api, login
from hypothesis import given, settings
from hypothesis import strategies as st
from phable import AuthError, CallError, HaxallClient, HaystackClient, Marker, Number, Ref
from starlette.testclient import TestClient

import hxredis as hx
from hxredis.cli import cli
from hxredis.http import create_app
from hxredis.http.auth import MAX_FAILURES, UserStore, scram_keys
from hxredis.server import RedisServer


def test_scram_keys_match_the_spec_vectors() -> None:
    stored, server = scram_keys("pencil", bytes(range(32)), 10000)
    assert base64.b64encode(stored).decode() == "onTyRK7/OeByDKz8CtLa8beIVS0ixLlzhCPEdlsvVmQ="
    assert base64.b64encode(server).decode() == "kUTVVCE+CXF7nBuHHpj5ERWuKaHFUjRHMO1X/ys4o/o="


def test_roles(served: Served) -> None:
    viewer = HaxallClient.open(served.uri, "viewer", PASSWORDS["viewer"])
    operator = HaxallClient.open(served.uri, "operator", PASSWORDS["operator"])
    with pytest.raises(CallError) as err:
        viewer.commit_add([{"dis": "nope", "site": Marker()}])
    assert err.value.help_msg.meta["dis"] == "Missing 'admin' permission: commit"
    with pytest.raises(CallError):
        operator.commit_add([{"dis": "nope", "site": Marker()}])
    with served.open_db() as db:
        rec = db.commit(
            hx.Diff.make_add(
                {
                    "dis": "P",
                    "point": hx.MARKER,
                    "his": hx.MARKER,
                    "writable": hx.MARKER,
                    "kind": "Number",
                    "tz": "UTC",
                }
            )
        ).new_rec
    ref = Ref(rec["id"].id)
    with pytest.raises(CallError):
        viewer.point_write(ref, 16, Number(1))
    operator.point_write(ref, 16, Number(1))
    assert viewer.read_by_id(ref)["dis"] == "P"  # viewers read
    for c in (viewer, operator):
        c.close()


def test_close_and_token_expiry(
    redis_server: RedisServer, serve_factory: Callable[..., Served]
) -> None:
    short = serve_factory(redis_server, None, "--session-ttl", "1")
    client = HaystackClient.open(short.uri, "viewer", PASSWORDS["viewer"])
    client.about()
    client.close()
    with pytest.raises(urllib.error.HTTPError) as err:
        client.about()
    assert err.value.code == 403
    token = login(short, "viewer")
    with api(short, token) as c:
        assert c.get("about").status_code == 200
        time.sleep(2.5)  # an idle token expires (Redis expires the session key)
        assert c.get("about").status_code == 403


def test_disabled_and_removed_users(served: Served) -> None:
    name = f"u{uuid.uuid4().hex[:8]}"
    with served.open_db() as db:
        store = UserStore(db.client, "hx", served.name)
        store.add(name, "pw-123456", "viewer")
        client = HaystackClient.open(served.uri, name, "pw-123456")
        store.set_disabled(name, True)
        with pytest.raises(urllib.error.HTTPError):  # the session ended
            client.about()
        with pytest.raises(AuthError):
            HaystackClient.open(served.uri, name, "pw-123456")
        store.set_disabled(name, False)
        HaystackClient.open(served.uri, name, "pw-123456").close()
        store.remove(name)
        with pytest.raises(AuthError):
            HaystackClient.open(served.uri, name, "pw-123456")


def test_failed_logins_are_limited(served: Served) -> None:
    name = f"u{uuid.uuid4().hex[:8]}"
    with served.open_db() as db:
        UserStore(db.client, "hx", served.name).add(name, "right-pw", "viewer")
    for _ in range(MAX_FAILURES):
        with pytest.raises(AuthError):
            HaystackClient.open(served.uri, name, "wrong-pw")
    with pytest.raises(AuthError):  # refused even with the right password, for a while
        HaystackClient.open(served.uri, name, "right-pw")
    HaystackClient.open(served.uri, "viewer", PASSWORDS["viewer"]).close()  # others are fine


def test_user_commands(redis_server: RedisServer, db_name: str) -> None:
    runner = CliRunner()
    base = ["--uri", redis_server.url, "--name", db_name, "user"]
    res = runner.invoke(
        cli, [*base, "add", "ann", "--role", "operator", "--password-stdin"], input="ann-pw\n"
    )
    assert res.exit_code == 0, res.output
    assert "ann-pw" not in res.output
    res = runner.invoke(cli, [*base, "add", "ann", "--password-stdin"], input="x\n")
    assert res.exit_code != 0
    assert runner.invoke(cli, [*base, "list"]).output.split() == ["ann", "operator"]
    runner.invoke(cli, [*base, "disable", "ann"])
    assert "disabled" in runner.invoke(cli, [*base, "list"]).output
    assert (
        runner.invoke(cli, [*base, "passwd", "ann", "--password-stdin"], input="new\n").exit_code
        == 0
    )
    assert runner.invoke(cli, [*base, "remove", "ann"]).exit_code == 0
    assert runner.invoke(cli, [*base, "list"]).output == ""
    with hx.open(redis_server.url, name=db_name) as db:  # nothing in clear in Redis
        for key in db.client.scan_iter(f"hx:{{{db_name}}}:http:*"):
            dump = db.client.dump(key) or b""
            assert b"ann-pw" not in dump and b"new" not in dump


def test_no_secret_in_logs(
    redis_server: RedisServer, db_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    add_users(redis_server, db_name)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(redis_server.url, db_name)) as tc:
        path = f"/api/{db_name}/about"
        tokens = [_testclient_login(tc, path, u, PASSWORDS[u]) for u in ("admin", "viewer")]
        assert all(tokens)
        assert _testclient_login(tc, path, "admin", "wrong-password") is None
        for token in tokens:
            headers = {"Authorization": f"BEARER authToken={token}"}
            assert tc.get(f"/api/{db_name}/about", headers=headers).status_code == 200
            tc.post(
                f"/api/{db_name}/commit",
                headers={**headers, "Content-Type": "text/zinc"},
                content='ver:"3.0" commit:"add"\ndis\n"x"\n',
            )
        tc.post(f"/api/{db_name}/read", headers={"Authorization": "BEARER authToken=bad"})
    text = caplog.text
    assert text  # debug logging did record something
    for secret in [*PASSWORDS.values(), "wrong-password", *tokens]:
        assert secret not in text


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode().rstrip("=")


def _testclient_login(tc: TestClient, path: str, user: str, password: str) -> str | None:
    """A SCRAM-SHA-256 login through the ASGI test client; the token, or None on 403."""
    hello = tc.get(path, headers={"Authorization": f"HELLO username={_b64(user)}"})
    token = hello.headers["www-authenticate"].split("handshakeToken=")[1].split(",")[0]
    nonce = "0123456789abcdef01234567"
    first = f"n,,n={user},r={nonce}"
    auth = f"SCRAM data={_b64(first)}, handshakeToken={token}"
    data = tc.get(path, headers={"Authorization": auth}).headers["www-authenticate"]
    data = data.split("data=")[1]
    server_first = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
    parts = dict(p.split("=", 1) for p in server_first.split(","))
    salt = base64.b64decode(parts["s"])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(parts["i"]), 32)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={parts['r']}"
    auth_message = f"n={user},r={nonce},{server_first},{without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True)))
    final = f"{without_proof},p={proof.decode()}"
    auth = f"SCRAM data={_b64(final)}, handshakeToken={token}"
    resp = tc.get(path, headers={"Authorization": auth})
    if resp.status_code != 200:
        assert resp.status_code == 403
        return None
    return resp.headers["authentication-info"].split("authToken=")[1].split(",")[0]


def test_unknown_user_gets_a_stable_fake_salt(served: Served) -> None:
    def salt(user: str) -> str:
        b64 = base64.b64encode(user.encode()).decode().rstrip("=")
        hello = httpx.get(f"{served.uri}/about", headers={"Authorization": f"HELLO username={b64}"})
        assert hello.status_code == 401
        token = hello.headers["www-authenticate"].split("handshakeToken=")[1].split(",")[0]
        first = base64.b64encode(f"n,,n={user},r=abc123".encode()).decode()
        resp = httpx.get(
            f"{served.uri}/about",
            headers={"Authorization": f"SCRAM data={first}, handshakeToken={token}"},
        )
        assert resp.status_code == 401
        data = resp.headers["www-authenticate"].split("data=")[1]
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode().split(",")[1]

    assert salt("ghost") == salt("ghost")
    assert salt("ghost") != salt("viewer")


def test_no_secret_in_the_server_log(served: Served) -> None:
    token = login(served, "operator")
    with api(served, token) as c:
        assert c.get("about").status_code == 200
    with pytest.raises(AuthError):
        HaystackClient.open(served.uri, "operator", "a-wrong-password")
    text = served.log.read_text()
    assert "GET /api/" in text  # uvicorn's access log at debug level
    for secret in [*PASSWORDS.values(), "a-wrong-password", token]:
        assert secret not in text


_HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@pytest.fixture(scope="module")
def asgi(stack_server: RedisServer):
    name = f"f{uuid.uuid4().hex[:8]}"
    add_users(stack_server, name)
    with TestClient(create_app(stack_server.url, name)) as tc:
        yield tc, f"/api/{name}/about"


@settings(max_examples=60)
@given(
    scheme=st.sampled_from(["HELLO", "SCRAM", "BEARER", "hello", "Basic", ""]),
    params=_HEADER_TEXT,
)
def test_arbitrary_authorization_headers(asgi, scheme: str, params: str) -> None:
    """Any Authorization header gets 400, 401 or 403: never a 500, never a session."""
    tc, path = asgi
    resp = tc.get(path, headers={"Authorization": f"{scheme} {params}"})
    assert resp.status_code in (400, 401, 403)


def test_scram_steps_out_of_order(asgi) -> None:
    tc, path = asgi
    hello = tc.get(path, headers={"Authorization": f"HELLO username={_b64('viewer')}"})
    token = hello.headers["www-authenticate"].split("handshakeToken=")[1].split(",")[0]
    final = _b64("c=biws,r=abc,p=AAAA")  # a client-final before the client-first
    resp = tc.get(path, headers={"Authorization": f"SCRAM data={final}, handshakeToken={token}"})
    assert resp.status_code == 400
    resp = tc.get(path, headers={"Authorization": f"SCRAM data={final}, handshakeToken={'0' * 32}"})
    assert resp.status_code == 403
