"""URIs with passwords: no error message, repr, chained exception or log line ever shows the
password, whatever characters it holds; client defaults (timeouts, no retries) and their
overrides."""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
import traceback
import uuid
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
import redis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from redis.backoff import NoBackoff
from redis.retry import Retry

import hxredis as hx
from hxredis.client import DEFAULT_TIMEOUT, redis_from_url
from hxredis.server import RedisServer, start_server

# passwords as users type them into URIs: unencoded URI delimiters, percent signs, unicode
PASSWORDS = st.text(
    alphabet=st.one_of(
        st.sampled_from("/#?@:%&=+ ;[]"),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    ),
    min_size=8,
    max_size=40,
)

BAD_URIS = [
    "redis://user:{pw}@127.0.0.1:6390/x1",  # database index not a number
    "redis://user:{pw}@127.0.0.1:notaport/0",  # port not a number
    "redis://:{pw}@127.0.0.1:6390/0?socket_timeout=abc",  # bad query option
    "rediss://user:{pw}@127.0.0.1:6390/0/1",  # path not a database index
    "http://user:{pw}@127.0.0.1:6390/0",  # unknown scheme
    "user:{pw}@127.0.0.1:6390",  # no scheme at all
    "unix://user:{pw}@/tmp/redis.sock?db=x",  # bad database option
]


def _everything_shown(exc: BaseException) -> str:
    """The message, repr and formatted traceback of ``exc`` and its whole chain."""
    shown = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        shown += [str(e), repr(e), *(repr(arg) for arg in e.args)]
        todo += [e.__cause__, e.__context__]
    shown += traceback.format_exception(exc)
    return "\n".join(shown)


def _assert_hidden(password: str, text: str) -> None:
    for form in {password, unquote(password)}:
        assert form not in text


@pytest.mark.parametrize("template", BAD_URIS)
@given(password=PASSWORDS)
def test_malformed_uri_errors_never_show_the_password(template: str, password: str) -> None:
    uri = template.replace("{pw}", password)
    assume(password not in template and unquote(password) not in template)
    with pytest.raises(ValueError, match="invalid Redis URI") as info:
        redis_from_url(uri)
    _assert_hidden(password, _everything_shown(info.value))


@given(password=PASSWORDS, user=st.sampled_from(["", "ro", "app-user"]))
def test_the_password_is_everything_up_to_the_last_at(user: str, password: str) -> None:
    uri = f"redis://{user}:{password}@127.0.0.1:6390/3"
    client = redis_from_url(uri)
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["password"] == unquote(password)
    assert kwargs.get("username") == (user or None)
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 3)
    _assert_hidden(password, repr(client) + repr(client.connection_pool))
    client.close()


def test_the_known_leaks_are_closed() -> None:
    for uri in (
        "redis://user:S3cr3tPw/x@127.0.0.1:6390/0x",
        "redis://user:S3c#r3tPw@127.0.0.1:6390/0x",
        "redis://user:S3cr3tPw@127.0.0.1:6390/x",
        "redis://user:S3cr?3tPw@127.0.0.1:notaport",
    ):
        with pytest.raises(ValueError) as info:
            redis_from_url(uri)
        text = _everything_shown(info.value)
        assert "S3c" not in text and "3tPw" not in text
        assert "user:***@127.0.0.1" in str(info.value)


@pytest.fixture
def acl_user(plain_server: RedisServer) -> Iterator[str]:
    """A user of the session server whose password no generated one matches; removed after."""
    name = f"hxtest-{uuid.uuid4().hex[:8]}"
    admin = plain_server.client()
    admin.acl_setuser(
        name, enabled=True, passwords=["+right"], keys=["hxtest:*"], commands=["+@all"]
    )
    yield name
    admin.acl_deluser(name)
    admin.close()


def _failed_open_text(plain_server: RedisServer, acl_user: str, password: str) -> str:
    host = plain_server.url.removeprefix("redis://")
    with pytest.raises(Exception) as info:
        hx.open(f"redis://{acl_user}:{password}@{host}/0", name="never", follow=False).close()
    return _everything_shown(info.value)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=PASSWORDS)
def test_failed_opens_never_show_the_password(
    plain_server: RedisServer, acl_user: str, password: str
) -> None:
    """AUTH with a wrong password fails; nothing shows the password that was sent."""
    host = plain_server.url.removeprefix("redis://")
    assume(password not in host and unquote(password) not in host)
    # the text every failed open shows anyway (Redis's "invalid username-password pair",
    # the user name ...): a password that is part of it proves nothing
    sentinel = "Q7sentinelQ7"
    fixed = _failed_open_text(plain_server, acl_user, sentinel).replace(sentinel, "")
    assume(password not in fixed and unquote(password) not in fixed)
    uri = f"redis://{acl_user}:{password}@{host}/0"
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with pytest.raises(Exception) as info:
            hx.open(uri, name="never", follow=False).close()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    _assert_hidden(password, _everything_shown(info.value) + logged.getvalue())


def test_client_defaults_and_overrides(plain_server: RedisServer) -> None:
    def settings(client: redis.Redis) -> tuple[object, object, int]:
        kwargs = client.connection_pool.connection_kwargs
        retries = client.connection_pool.make_connection().retry.get_retries()
        return kwargs["socket_timeout"], kwargs["socket_connect_timeout"], retries

    defaults = (DEFAULT_TIMEOUT, DEFAULT_TIMEOUT, 0)
    assert settings(redis_from_url(plain_server.url)) == defaults
    assert settings(plain_server.client()) == defaults
    options = {"socket_timeout": 1.5, "socket_connect_timeout": 2.5, "retry": Retry(NoBackoff(), 2)}
    assert settings(redis_from_url(plain_server.url, **options)) == (1.5, 2.5, 2)
    assert settings(plain_server.client(**options)) == (1.5, 2.5, 2)
    in_uri = redis_from_url(plain_server.url + "/0?socket_timeout=3", socket_timeout=1)
    assert settings(in_uri)[0] == 3.0  # the URI's query wins, as in redis-py


@pytest.mark.parametrize("make", ["uri", "server"])
def test_a_timed_out_command_is_not_sent_again(make: str) -> None:
    """The server is paused past the socket timeout and resumed while a retrying client would
    still be retrying: INCR fails once and is never sent again."""
    with start_server(timeseries=False) as server:
        options = {"socket_timeout": 0.5}
        client = (
            redis_from_url(server.url, **options) if make == "uri" else server.client(**options)
        )
        client.set("hxtest:n", 0)
        os.kill(server.pid, signal.SIGSTOP)
        resume = threading.Timer(1.5, os.kill, [server.pid, signal.SIGCONT])
        resume.start()
        try:
            with pytest.raises(redis.TimeoutError):
                client.incr("hxtest:n")
        finally:
            resume.join()
        assert int(client.get("hxtest:n")) == 1
        client.close()
