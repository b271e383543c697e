-- The FFI core, sans-I/O: client and server driven against each other in
-- memory, and bad input giving nil, err with the precise reason.
local H = require "tests.lua.helpers"
local ferrule = H.ferrule

describe("ferrule FFI core", function()
    it("completes a handshake in memory and moves data both ways", function()
        local a = assert(ferrule.conn(H.client_config(), { server_name = "localhost" }))
        local b = assert(ferrule.conn(H.server_config()))
        assert.is_true(H.pair_handshake(a, b))
        assert.equal(5, a:write("hello"))
        b:feed(a:take())
        assert.equal("hello", b:read())
        b:write("world")
        a:feed(b:take())
        assert.equal("world", a:read())
        local info = a:info()
        assert.equal(0x0304, info.version)
        assert.equal("TLS_AES_128_GCM_SHA256", info.suite)
        assert.equal("x25519", info.group)
        assert.equal(2, #info.peer_certs)
        assert.equal(a:export("EXPORTER-lua", "ctx", 32), b:export("EXPORTER-lua", "ctx", 32))
    end)

    it("reports close_notify as closed and a bare EOF as truncation", function()
        local a = assert(ferrule.conn(H.client_config(), { server_name = "localhost" }))
        local b = assert(ferrule.conn(H.server_config()))
        assert.is_true(H.pair_handshake(a, b))
        assert(a:close())
        b:feed(a:take())
        local data, err = b:read()
        assert.is_nil(data)
        assert.equal("closed", err)
        local c = assert(ferrule.conn(H.client_config(), { server_name = "localhost" }))
        local d = assert(ferrule.conn(H.server_config()))
        assert.is_true(H.pair_handshake(c, d))
        d:feed_eof()
        data, err = d:read()
        assert.is_nil(data)
        assert.matches("^truncated", err)
    end)

    it("gives nil, err with the reason for bad input, and stays inspectable", function()
        local cases = {
            { "garbage", "GET / HTTP/1.1\r\n\r\n", "decode: bad_content_type %(alert 10 unexpected_message, sent%)" },
            { "oversized record", "\22\3\1\64\1" .. ("\0"):rep(16385), "record_overflow" },
            { "application data first", "\23\3\3\0\3abc", "alert 10 unexpected_message" },
            { "an alert", "\21\3\3\0\2\2\40", "alert%-received: peer_alert %(alert 40 handshake_failure, received%)" },
        }
        for _, case in ipairs(cases) do
            local s = assert(ferrule.conn(H.server_config()))
            assert(s:feed(case[2]:sub(1, 16000)))
            local ok, err = s:handshake()
            if ok == nil and err == "want-read" and #case[2] > 16000 then
                s:feed(case[2]:sub(16001))
                ok, err = s:handshake()
            end
            assert.is_nil(ok, case[1])
            assert.matches(case[3], err, 1, false)
            assert.equal(err, s:error(), case[1])
            local out = s:take() -- the alert we owe is still sent
            if not err:find("received") then assert.is_true(#out >= 7, case[1]) end
            s:free()
        end
        -- Misuse: early data without the replay-safe declaration.
        local c = assert(ferrule.conn(H.client_config(), { server_name = "localhost" }))
        local n, err = c:write_early_data("x")
        assert.is_nil(n)
        assert.matches("replay%-safe", err)
    end)

    it("refuses a config it cannot build, with the reason", function()
        local cfg, err = ferrule.config { role = "client", trust_file = "/nonexistent.pem" }
        assert.is_nil(cfg)
        assert.matches("^trust_file: ", err)
        cfg, err = ferrule.config { role = "client", suites = { "TLS_NULL_WITH_NULL_NULL" } }
        assert.is_nil(cfg)
        assert.matches("unknown name", err)
    end)
end)
