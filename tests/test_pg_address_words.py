"""A PostgreSQL address with a wrong option says which option, in one line, never with the
password: it is not "unreachable" (libpq refuses it before any server is asked)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from msl_tui.cli import main
from msl_tui.store.pg import bad_option, urlsplit_password

pytest.importorskip("psycopg")
BASE = "postgresql://msl:S3cret-pw@/msl?host=/nonexistent-folder"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (BASE + "&sslmode=bogus", 'the option sslmode="bogus" is not a value it takes (one of disable'),
        (BASE + "&bogus=1", 'PostgreSQL has no option "bogus"'),
        (BASE + "&target_session_attrs=xx", 'the option target_session_attrs="xx" is not a value'),
        ("postgresql://msl:S3cret-pw@localhost:99999/msl", 'the port "99999" is not a port number'),
        ("postgresql://msl:S3cret-pw@localhost:99x/msl", "the port is not a port number"),
        (BASE + "&sslmode=S3cret-pw", "the option sslmode=(hidden) is not a value it takes"),
        # msl's own 10-second default must not hide the address's wrong one (QA finding).
        (BASE + "&connect_timeout=abc", 'the option connect_timeout="abc" is not a whole number'),
    ],
)  # fmt: skip
def test_a_wrong_option_is_named_in_one_line(url: str, words: str) -> None:
    result = CliRunner().invoke(main, ["--db", url, "conflicts"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "wrong address, " + words in result.stderr
    assert "could not be reached" not in result.stderr and "answers there" not in result.stderr
    assert "S3cret" not in result.output and "Traceback" not in result.output


def test_other_messages_are_not_taken_for_a_wrong_option() -> None:
    assert bad_option("connection refused", BASE) is None
    assert bad_option('password authentication failed for user "msl"', BASE) is None


def test_the_password_is_found_to_be_hidden() -> None:
    assert urlsplit_password(BASE) == "S3cret-pw"
    assert urlsplit_password("postgresql://msl@host/db?x=a:b@c") == ""
    assert urlsplit_password("postgresql://host/db") == ""
