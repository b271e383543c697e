-- ferrule/socket.lua - blocking TLS 1.3 over LuaSocket, for plain LuaJIT.
--
--   local fsock = require "ferrule.socket"
--   local s = assert(fsock.connect("localhost", 4433, cfg, { timeout = 5 }))
--   s:send("GET / HTTP/1.0\r\n\r\n")
--   local body = s:receive("*a")
--
-- Errors are nil, err: "timeout", "closed" (the peer's close_notify for
-- receive), or the library's "status: reason (alert N)".  Records are read
-- by their 5-byte headers, so no read ever waits for more than the record
-- it is in.
local socket = require "socket"
local ferrule = require "ferrule"
local stream = require "ferrule.stream"

local M = {}
local TLS = stream.into({})
TLS.__index = TLS

local function wrap(sock, conn, timeout)
    sock:settimeout(timeout)
    return setmetatable({ sock = sock, conn = conn, buf = "", timeout = timeout }, TLS)
end

--- Run the handshake (connect and accept call it).
TLS.handshake = stream.run_handshake
TLS.drain = stream.take_buf


--- Send close_notify and close the socket.
function TLS:close()
    if self.conn then
        self.conn:close()
        self:flush()
        self.conn:free()
        self.conn = nil
    end
    self.sock:close()
    return true
end

function TLS:settimeout(t)
    self.timeout = t
    self.sock:settimeout(t)
end

function TLS:info() return self.conn:info() end
function TLS:session() return self.conn:session() end
function TLS:key_update(request_peer)
    local ok, err = self.conn:key_update(request_peer)
    if not ok then return nil, err end
    return self:flush()
end

--- Connect to host:port and run the handshake.  opts: server_name
-- (default host), timeout (seconds, default 30), session (a string from
-- a previous connection's session()), early_data (a replay-safe string
-- sent as 0-RTT with the session).
function M.connect(host, port, config, opts)
    opts = opts or {}
    local sock, err = socket.tcp()
    if not sock then return nil, err end
    sock:settimeout(opts.timeout or 30)
    local ok, cerr = sock:connect(host, port)
    if not ok then return nil, cerr end
    local conn, ferr = ferrule.conn(config, { server_name = opts.server_name or host })
    if not conn then return nil, ferr end
    if opts.session then conn:set_session(opts.session) end
    local s = wrap(sock, conn, opts.timeout or 30)
    if opts.early_data then
        local n, eerr = conn:write_early_data(opts.early_data, true)
        if not n then return nil, eerr end
    end
    local hok, herr = s:handshake()
    if not hok then
        sock:close()
        return nil, herr
    end
    return s
end

local Server = {}
Server.__index = Server

--- Listen on host:port.
function M.bind(host, port, config)
    local srv, err = socket.bind(host, port)
    if not srv then return nil, err end
    return setmetatable({ srv = srv, config = config }, Server)
end

--- Accept one connection and run its handshake.
function Server:accept(timeout)
    local sock, err = self.srv:accept()
    if not sock then return nil, err end
    local conn, ferr = ferrule.conn(self.config)
    if not conn then return nil, ferr end
    local s = wrap(sock, conn, timeout or 30)
    local ok, herr = s:handshake()
    if not ok then
        sock:close()
        return nil, herr
    end
    return s
end

function Server:port()
    local _, port = self.srv:getsockname()
    return tonumber(port)
end

function Server:close() self.srv:close() end

return M
