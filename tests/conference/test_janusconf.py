"""The generated Janus configuration: what the running Janus loaded, where it listens, and the
generator's command line (conference/janusconf.py)."""

from __future__ import annotations

import stat
import subprocess

from sprechzimmer.conference import janusconf


def test_the_running_janus_has_only_the_videoroom_and_two_transports_and_token_auth(janus_server):
    info = janus_server.admin("info")
    assert set(info["plugins"]) == {"janus.plugin.videoroom"}
    assert set(info["transports"]) == {"janus.transport.http", "janus.transport.websockets"}
    assert info["auth_token"] is True and info["event_handlers"] is False
    assert info["events"] == {} and info["loggers"] == {}
    # Every port Janus listens on for its APIs is on loopback.
    sockets = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    own = [line for line in sockets.splitlines() if f"pid={janus_server.process.pid}," in line]
    assert len(own) == 3 and all(" 127.0.0.1:" in line for line in own), own


def test_the_admin_api_needs_its_secret(janus_server):
    from tests.conference.conftest import post

    answer = post(janus_server.admin_url, {"janus": "list_sessions", "transaction": "t", "admin_secret": "falsch"})
    assert answer["janus"] == "error" and answer["error"]["code"] == 403
    assert janus_server.admin("list_sessions")["janus"] == "success"


def test_the_command_writes_a_folder_only_its_owner_reads(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JANUS_SECRET", "s" * 40)
    folder = tmp_path / "janus"
    assert janusconf.main([str(folder), "--public-ip", "203.0.113.10", "--rtp-ports", "20000-20999"]) == 0
    text = (folder / "janus.jcfg").read_text()
    assert 'rtp_port_range = "20000-20999"' in text and 'nat_1_1_mapping = "203.0.113.10"' in text
    assert f'token_auth_secret = "{janusconf.token_secret("s" * 40)}"' in text
    assert stat.S_IMODE((folder / "janus.jcfg").stat().st_mode) == 0o600
    assert sorted(p.name for p in (folder / "plugins").iterdir()) == ["libjanus_videoroom.so"]

    monkeypatch.setenv("JANUS_SECRET", "kurz")
    assert janusconf.main([str(tmp_path / "other")]) == 2
    monkeypatch.setenv("JANUS_SECRET", "s" * 40)
    assert janusconf.main([str(tmp_path / "other"), "--rtp-ports", "40000-20000"]) == 2
    assert "--rtp-ports" in capsys.readouterr().err
