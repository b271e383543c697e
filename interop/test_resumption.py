"""Session resumption (RFC 8446 §2.2, §4.6.1) against real peers:
openssl s_client -sess_out / -sess_in -> ferrule server (tickets on by default).
"""

HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"


def test_openssl_resumes_with_ferrule_server(ferrule_server, s_client, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "2")
    sess = tmp_path / "sess.pem"
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    assert "New, TLSv1.3" in c.stdout, c.describe()
    assert sess.exists() and sess.stat().st_size > 0, c.describe()
    c2 = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c2.wait() == 0, c2.describe()
    assert "Reused, TLSv1.3" in c2.stdout, c2.describe()
    srv.wait()


def test_gnutls_cli_resumes_with_ferrule_server(procs, pki, ferrule_server):
    import shutil
    cli = shutil.which("gnutls-cli")
    assert cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "2")
    c = procs.start([cli, "-p", str(port), "--x509cafile", pki / "root.pem", "--resume",
                     "localhost"], stdin_data=b"")
    c.wait()
    assert "This is a resumed session" in c.stdout, c.describe()
