-- The blocking LuaSocket client and server against openssl s_server, a
-- ferrule server and hostile peers.
local H = require "tests.lua.helpers"
local ferrule = H.ferrule
local fsock = require "ferrule.socket"

local suites = { "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256" }
local groups = { "x25519", "secp256r1", "secp384r1" }

local function ossl_group(g) return ({ x25519 = "X25519", secp256r1 = "P-256", secp384r1 = "P-384" })[g] end

describe("LuaSocket client", function()
    after_each(H.stop_all)
    it("speaks every suite x group with openssl s_server and a ferrule server", function()
        for _, s in ipairs(suites) do
            for _, g in ipairs(groups) do
                local peers = {
                    H.openssl_server { "-rev", "-ciphersuites", s, "-groups", ossl_group(g) },
                    H.ferrule_server { "--echo", "--ciphersuites", s, "--groups", g },
                }
                for i, peer in ipairs(peers) do
                    local cfg = H.client_config { suites = { s }, groups = { g } }
                    local c = assert(fsock.connect("127.0.0.1", peer.port, cfg, { server_name = "localhost", timeout = 10 }))
                    assert(c:send("hello\n"))
                    assert.equal(i == 1 and "olleh" or "hello", c:receive("*l"))
                    local info = c:info()
                    assert.equal(s, info.suite)
                    assert.equal(g, info.group)
                    c:close()
                    peer.stop()
                end
            end
        end
    end)

    it("verifies certificates of each key type", function()
        for _, kind in ipairs { "ecdsa-p256", "ecdsa-p384", "rsa", "rsa-pss", "ed25519" } do
            local peer = H.start { H.bin, "server", "--accept", "127.0.0.1:0", "--quiet", "--echo",
                                   "--cert", H.pki .. "/" .. kind .. ".chain.pem", "--key", H.pki .. "/" .. kind .. ".key" }
            local c = assert(fsock.connect("127.0.0.1", peer.port, H.client_config(), { server_name = "localhost" }))
            assert(c:send("x\n"))
            assert.equal("x", c:receive("*l"))
            c:close()
            peer.stop()
        end
        -- An untrusted chain and a wrong name: certificate errors with the reason.
        local peer = H.start { H.bin, "server", "--accept", "127.0.0.1:0", "--quiet",
                               "--cert", H.pki .. "/untrusted.chain.pem", "--key", H.pki .. "/untrusted.key" }
        local c, err = fsock.connect("127.0.0.1", peer.port, H.client_config(), { server_name = "localhost" })
        assert.is_nil(c)
        assert.matches("^certificate: cert_unknown_issuer %(alert 48 unknown_ca, sent%)", err)
        peer.stop()
        peer = H.ferrule_server()
        c, err = fsock.connect("127.0.0.1", peer.port, H.client_config(), { server_name = "other.test" })
        assert.is_nil(c)
        assert.matches("^certificate: cert_name_mismatch", err)
        peer.stop()
    end)

    it("negotiates ALPN, resumes, authenticates the client, updates keys", function()
        local peer = H.ferrule_server { "--echo", "--alpn", "h2,http/1.1", "--verify-client", "require",
                                        "--cafile", H.pki .. "/root.pem" }
        local cfg = H.client_config { alpn = { "http/1.1" },
                                      chains = { { cert_file = H.pki .. "/ecdsa-p256.chain.pem", key_file = H.pki .. "/ecdsa-p256.key" } } }
        local c = assert(fsock.connect("127.0.0.1", peer.port, cfg, { server_name = "localhost" }))
        assert(c:send("one\n"))
        assert.equal("one", c:receive("*l"))
        assert.equal("http/1.1", c:info().alpn)
        assert(c:key_update(true))
        assert(c:send("two\n"))
        assert.equal("two", c:receive("*l"))
        local info = c:info()
        assert.equal(1, info.key_updates_sent)
        assert.equal(1, info.key_updates_received) -- the server's answer
        local session = assert(c:session())
        c:close()
        c = assert(fsock.connect("127.0.0.1", peer.port, cfg, { server_name = "localhost", session = session }))
        assert.is_true(c:info().resumed)
        assert(c:send("three\n"))
        assert.equal("three", c:receive("*l"))
        c:close()
        -- Without a certificate: the server's certificate_required (116).
        local bare = H.client_config()
        c = assert(fsock.connect("127.0.0.1", peer.port, bare, { server_name = "localhost" }))
        local line, err = c:receive("*l")
        assert.is_nil(line)
        assert.matches("alert 116 certificate_required, received", err)
        peer.stop()
    end)

    it("moves 8 MiB each way byte-exact", function()
        local peer = H.ferrule_server { "--echo" }
        local c = assert(fsock.connect("127.0.0.1", peer.port, H.client_config(), { server_name = "localhost" }))
        local chunk = ("0123456789abcdef"):rep(4096) -- 64 KiB
        local total = 8 * 1024 * 1024
        local got = 0
        for _ = 1, total / #chunk do
            assert(c:send(chunk))
            local back = assert(c:receive(#chunk))
            assert.equal(chunk, back)
            got = got + #back
        end
        assert.equal(total, got)
        c:close()
        peer.stop()
    end)

    it("tells close_notify from truncation", function()
        local peer = H.openssl_server { "-www" }
        local c = assert(fsock.connect("127.0.0.1", peer.port, H.client_config(), { server_name = "localhost" }))
        assert(c:send("GET / HTTP/1.0\r\n\r\n"))
        local body = c:receive("*a") -- s_server -www ends with close_notify
        assert.matches("^HTTP/1.0 200 ok", body)
        c:close()
        peer.stop()
        peer = H.start { "python3", "tests/lua/hostile_peer.py", "truncated" }
        local _, err = fsock.connect("127.0.0.1", peer.port, H.client_config(), { server_name = "localhost" })
        assert.matches("^truncated", err)
        peer.stop()
    end)

    it("gives nil, err for hostile servers", function()
        local want = {
            garbage = "^decode: bad_content_type %(alert 10 unexpected_message, sent%)",
            oversized = "^decode: plaintext_overflow %(alert 22 record_overflow, sent%)",
            alert = "^alert%-received: peer_alert %(alert 70 protocol_version, received%)",
        }
        for mode, pattern in pairs(want) do
            local peer = H.start { "python3", "tests/lua/hostile_peer.py", mode }
            local c, err = fsock.connect("127.0.0.1", peer.port, H.client_config(), { server_name = "localhost" })
            assert.is_nil(c, mode)
            assert.matches(pattern, err)
            peer.stop()
        end
        local peer = H.start { "python3", "tests/lua/hostile_peer.py", "stall" }
        local t0 = os.time()
        local c, err = fsock.connect("127.0.0.1", peer.port, H.client_config(), { server_name = "localhost", timeout = 1 })
        assert.is_nil(c)
        assert.equal("timeout", err)
        assert.is_true(os.time() - t0 <= 3)
        peer.stop()
    end)
end)

describe("LuaSocket server", function()
    after_each(H.stop_all)
    it("serves openssl s_client", function()
        local srv = assert(fsock.bind("127.0.0.1", 0, H.server_config()))
        local port = srv:port()
        local cmd = ("echo ping | timeout 10 openssl s_client -connect 127.0.0.1:%d -tls1_3 -CAfile %s/root.pem " ..
                     "-servername localhost -verify_return_error -quiet -ign_eof >/tmp/ferrule-lua-sclient.out 2>&1 &")
                        :format(port, H.pki)
        os.execute(cmd)
        local s = assert(srv:accept(10))
        assert.equal("ping", s:receive("*l"))
        assert(s:send("pong\n"))
        s:close()
        srv:close()
        os.execute("sleep 0.3")
        local f = assert(io.open("/tmp/ferrule-lua-sclient.out"))
        local out = f:read("*a")
        f:close()
        assert.matches("pong", out)
    end)
end)

describe("key log and early data", function()
    after_each(H.stop_all)

    it("logs the same secrets as openssl s_server", function()
        local theirs = os.tmpname()
        local peer = H.openssl_server { "-rev", "-keylogfile", theirs }
        local ours = {}
        local cfg = H.client_config { keylog = function(line) ours[#ours + 1] = line end }
        local c = assert(fsock.connect("127.0.0.1", peer.port, cfg, { server_name = "localhost" }))
        assert(c:send("hi\n"))
        assert.equal("ih", c:receive("*l"))
        c:close()
        peer.stop()
        local f = assert(io.open(theirs))
        local want = {}
        for line in f:lines() do
            if line:match("^[A-Z]") then want[#want + 1] = line end
        end
        f:close()
        os.remove(theirs)
        table.sort(ours)
        table.sort(want)
        assert.equal(5, #ours)
        assert.same(want, ours)
        -- resty.ferrule refuses it (no Lua callback on a cosocket handshake).
        package.loaded["resty.ferrule"] = nil
        _G.ngx = _G.ngx or { worker = { pid = function() return 0 end } }
        local resty = require "resty.ferrule"
        local rcfg, err = resty.config { trust_file = H.pki .. "/root.pem", keylog = function() end }
        assert.is_nil(rcfg)
        assert.matches("^keylog: not available", err)
    end)

    it("sends 0-RTT data only when declared replay-safe, and the server takes it", function()
        local peer = H.ferrule_server { "--echo", "--early-data" }
        local cfg = H.client_config { early_data = true }
        local c = assert(fsock.connect("127.0.0.1", peer.port, cfg, { server_name = "localhost" }))
        assert(c:send("x\n"))
        assert.equal("x", c:receive("*l"))
        local session = assert(c:session())
        c:close()
        c = assert(fsock.connect("127.0.0.1", peer.port, cfg,
                                 { server_name = "localhost", session = session, early_data = "early\n" }))
        local info = c:info()
        assert.is_true(info.resumed)
        assert.equal("accepted", info.early_data)
        assert.equal("early", c:receive("*l")) -- echoed by the server
        c:close()
        -- Without the declaration the call refuses.
        local conn = assert(ferrule.conn(cfg, { server_name = "localhost" }))
        assert(conn:set_session(session))
        local n, err = conn:write_early_data("again", nil)
        assert.is_nil(n)
        assert.matches("replay%-safe", err)
        peer.stop()
    end)
end)
