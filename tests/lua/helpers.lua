-- tests/lua/helpers.lua - peers for the Lua suites: openssl s_server and
-- ferrule server started on loopback, the test PKI (FERRULE_TEST_PKI), and
-- configs.  Run by tests/lua/run.sh (busted under LuaJIT).
package.path = (os.getenv("FERRULE_LUA_PATH") or "bindings/lua") .. "/?.lua;" .. package.path
local ferrule = require "ferrule"
local socket = require "socket"

local H = {}
H.pki = assert(os.getenv("FERRULE_TEST_PKI"), "FERRULE_TEST_PKI is not set")
H.bin = assert(os.getenv("FERRULE_BIN"), "FERRULE_BIN is not set")

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local running = {} -- pid -> peer

local function kill_all()
    for pid in pairs(running) do os.execute("kill -9 " .. pid .. " 2>/dev/null") end
end

--- Stop every peer still running (after_each of the specs): a failed
-- assertion must not leave a peer whose pipe would hold the process.
function H.stop_all()
    for _, peer in pairs(running) do peer.stop() end
end

-- Peers still running when the suite ends (or fails) are killed: closing
-- their pipes would otherwise wait for them.
H.guard = newproxy(true)
getmetatable(H.guard).__gc = kill_all

-- Start `argv` (a list); it must print "ACCEPT host:port" on stdout.  Its
-- stdin is a FIFO opened read-write, which never reaches end of file
-- (openssl s_server ends a connection at EOF on its stdin).  Returns a
-- peer { port, pid, stop() }.
function H.start(argv)
    local parts = {}
    for i, a in ipairs(argv) do parts[i] = shell_quote(a) end
    local fifo = os.tmpname()
    os.remove(fifo)
    assert(os.execute("mkfifo " .. fifo) == 0)
    local cmd = "exec sh -c 'echo $$; exec \"$@\" 2>/dev/null <>" .. fifo .. "' sh " .. table.concat(parts, " ")
    local f = assert(io.popen(cmd, "r"))
    local pid = assert(tonumber(f:read("*l")), "no pid")
    running[pid] = { stop = function() os.execute("kill -9 " .. pid .. " 2>/dev/null") end }
    local port
    for _ = 1, 50 do
        local line = f:read("*l")
        if not line then break end
        port = line:match("^ACCEPT .*:(%d+)$")
        if port then break end
    end
    if not port then
        os.execute("kill -9 " .. pid .. " 2>/dev/null")
        error("the peer did not print its ACCEPT line: " .. table.concat(argv, " "))
    end
    local peer = { port = tonumber(port), pid = pid, out = f }
    function peer.stop()
        if not running[pid] then return end
        running[pid] = nil
        os.execute("kill " .. pid .. " 2>/dev/null")
        f:close()
        os.remove(fifo)
    end
    running[pid] = peer
    return peer
end

function H.openssl_server(extra)
    local argv = { "openssl", "s_server", "-accept", "127.0.0.1:0", "-tls1_3",
                   "-cert", H.pki .. "/ecdsa-p256.leaf.pem", "-cert_chain", H.pki .. "/inter.pem",
                   "-key", H.pki .. "/ecdsa-p256.key" }
    for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
    return H.start(argv)
end

function H.ferrule_server(extra)
    local argv = { H.bin, "server", "--accept", "127.0.0.1:0", "--quiet",
                   "--cert", H.pki .. "/ecdsa-p256.chain.pem", "--key", H.pki .. "/ecdsa-p256.key" }
    for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
    return H.start(argv)
end

function H.client_config(extra)
    local o = { role = "client", trust_file = H.pki .. "/root.pem" }
    for k, v in pairs(extra or {}) do o[k] = v end
    return assert(ferrule.config(o))
end

function H.server_config(kind, extra)
    kind = kind or "ecdsa-p256"
    local o = { role = "server", chains = { { cert_file = H.pki .. "/" .. kind .. ".chain.pem",
                                              key_file = H.pki .. "/" .. kind .. ".key" } } }
    for k, v in pairs(extra or {}) do o[k] = v end
    return assert(ferrule.config(o))
end

-- A raw TCP peer: accepts one connection and runs fn(sock) in a
-- coroutine-free way by forking the work to a helper process is not
-- possible here; instead callers use H.raw_listener + the socket.
function H.listen()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    srv:settimeout(10)
    return srv, tonumber(port)
end

-- Drive a client and a server connection against each other in memory
-- until both handshakes are done (or one fails).
function H.pair_handshake(a, b)
    for _ = 1, 50 do
        local ok1, e1 = a:handshake()
        local out = assert(a:take())
        if #out > 0 then assert(b:feed(out)) end
        local ok2, e2 = b:handshake()
        local back = assert(b:take())
        if #back > 0 then assert(a:feed(back)) end
        if ok1 and ok2 then return true end
        if not ok1 and e1:sub(1, 5) ~= "want-" then return nil, e1, "client" end
        if not ok2 and e2:sub(1, 5) ~= "want-" then return nil, e2, "server" end
    end
    return nil, "no progress"
end

H.ferrule = ferrule
return H
