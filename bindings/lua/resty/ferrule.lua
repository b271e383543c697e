-- resty/ferrule.lua - ferrule TLS 1.3 over an OpenResty cosocket, shaped
-- like the cosocket API (ngx.socket.tcp) so a location that would call
-- sock:sslhandshake() can use ferrule instead:
--
--   local ferrule = require "resty.ferrule"
--   local cfg = ferrule.config { trust_file = "/etc/ssl/certs/ca-certificates.crt" } -- once per worker
--   local tls = ferrule.wrap(ngx.socket.tcp(), cfg)
--   tls:settimeouts(1000, 1000, 1000)
--   assert(tls:connect("example.test", 443))
--   local session, err = tls:sslhandshake(cached_session, "example.test", true)
--   tls:send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
--   local line = tls:receive("*l")
--   tls:setkeepalive(10000, 32)
--
-- All I/O goes through the cosocket and yields: no call blocks the worker,
-- and no FFI callback runs on the handshake path (host decisions would use
-- the engine's pause/resume decisions).  Errors are nil, err as the
-- cosocket's ("timeout", "closed", ...) or the library's
-- "status: reason (alert N)".
local ferrule = require "ferrule"
local stream = require "ferrule.stream"

local M = { VERSION = ferrule.VERSION }
local TLS = stream.into({})
TLS.__index = TLS

--- A client config (built once per worker, shared by all requests).
-- Options as ferrule.config's; role is "client".
function M.config(opts)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    if o.keylog then
        -- The library's key log is a C callback, which would run Lua from
        -- inside a handshake step of a yielding cosocket.
        return nil, "keylog: not available in resty.ferrule (use the plain LuaJIT module)"
    end
    o.role = o.role or "client"
    return ferrule.config(o)
end

-- Parked TLS states per worker, by pool key: a list of { pool = name,
-- conn = connection }.  Each parked connection has a cosocket pool of its
-- own (pool size 1), so connecting with that pool name gives back exactly
-- the socket the state belongs to -- or a fresh socket if nginx closed the
-- pooled one meanwhile, and then the state is dropped.
local parked = {}
local serial = 0

--- Wrap a cosocket (ngx.socket.tcp()) with a config.
function M.wrap(sock, config)
    return setmetatable({ sock = sock, config = config, buf = "", reused = 0 }, TLS)
end

local function pool_key(host, port, opts)
    return (opts and opts.pool) or (tostring(host) .. ":" .. tostring(port))
end

--- Connect like sock:connect(host, port, opts); a TLS connection parked
-- with setkeepalive for the same pool is taken back, and sslhandshake then
-- skips the handshake.
function TLS:connect(host, port, opts)
    local key = pool_key(host, port, opts)
    self.key = key
    local list = parked[key]
    while list and #list > 0 do
        local p = table.remove(list)
        local o = {}
        for k, v in pairs(opts or {}) do o[k] = v end
        o.pool = p.pool
        local ok, err = self.sock:connect(host, port, o)
        if not ok then return nil, err end
        if self.sock:getreusedtimes() > 0 then
            self.conn, self.session, self.pool, self.reused = p.conn, p.session, p.pool, p.reused + 1
            return true
        end
        -- nginx dropped that socket (peer closed, idle timeout): this one
        -- is new (in that pool, now its own); the parked state goes.
        p.conn:free()
        self.pool = p.pool
        self.fresh = true
        return true
    end
    -- A new connection gets a pool of its own (see `parked`).
    serial = serial + 1
    self.pool = key .. "#ferrule-" .. ngx.worker.pid() .. "-" .. serial
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.pool = self.pool
    local ok, err = self.sock:connect(host, port, o)
    if not ok then return nil, err end
    self.fresh = true
    return true
end

function TLS:settimeouts(connect, send, read) return self.sock:settimeouts(connect, send, read) end
function TLS:settimeout(t) return self.sock:settimeout(t) end
function TLS:getreusedtimes() return self.reused end

-- The session object given to the application: updated as tickets arrive
-- (a TLS 1.3 server sends them after the handshake); serialize() gives
-- the bytes to keep, e.g. in a lua_shared_dict.
local Session = {}
Session.__index = Session
function Session:serialize() return self.blob end

-- After each read attempt (stream.lua): a ticket that arrived goes
-- into the session object.
function TLS:after_read()
    if self.session and not self.session.blob then
        local blob = self.conn:session()
        if blob then self.session.blob = blob end
    end
end

--- Run the handshake, like sock:sslhandshake(reused_session, server_name,
-- ssl_verify): reused_session is a session from an earlier call (or its
-- serialize() bytes), or false to get true back instead of a session;
-- server_name is sent in SNI and verified; ssl_verify must be true
-- unless the config turned verification off (ferrule always verifies).
-- On a connection taken back from the keepalive pool the handshake is
-- skipped.
function TLS:sslhandshake(reused_session, server_name, ssl_verify)
    if self.conn and not self.fresh then -- a pooled TLS connection
        if reused_session == false then return true end
        return self.session
    end
    if not self.fresh then
        return nil, "connect through the wrapper (tls:connect), so that a pooled socket keeps its TLS state"
    end
    -- ssl_verify: ferrule verifies as its config says (insecure_no_verify
    -- is the only way to turn it off), so false does not weaken it.
    local _ = ssl_verify
    local conn, err = ferrule.conn(self.config, { server_name = server_name })
    if not conn then return nil, err end
    self.conn = conn
    self.fresh = false
    if reused_session then
        local blob = type(reused_session) == "table" and reused_session.blob or reused_session
        if type(blob) == "string" and #blob > 0 then conn:set_session(blob) end
    end
    local hok, herr = self:run_handshake()
    if not hok then return nil, herr end
    self.session = setmetatable({}, Session)
    if reused_session == false then return true end
    return self.session
end

--- receiveany(max): whatever is available, at most max bytes.
function TLS:receiveany(max)
    if #self.buf == 0 then
        local ok, err = self:fill()
        if not ok then return nil, err end
    end
    local s = self.buf:sub(1, max)
    self.buf = self.buf:sub(#s + 1)
    return s
end

--- receiveuntil(pattern, options): an iterator returning the data before
-- each occurrence of `pattern` (options.inclusive keeps the pattern), or,
-- given a size, at most that much of it at a time.
function TLS:receiveuntil(pattern, options)
    local inclusive = options and options.inclusive
    local done = false
    return function(size)
        if done then return nil, nil end
        while true do
            local i, j = self.buf:find(pattern, 1, true)
            if i then
                local s = self.buf:sub(1, inclusive and j or i - 1)
                if size and #s > size then
                    local part = s:sub(1, size)
                    self.buf = self.buf:sub(size + 1)
                    return part
                end
                self.buf = self.buf:sub(j + 1)
                done = true
                return s
            end
            if size and #self.buf > size + #pattern then
                local part = self.buf:sub(1, size)
                self.buf = self.buf:sub(size + 1)
                return part
            end
            local ok, err = self:fill()
            if not ok then return nil, err, self:take_buf() end
        end
    end
end

--- Send close_notify and close the cosocket.
function TLS:close()
    if self.conn then
        self.conn:close()
        self:flush()
        self.conn:free()
        self.conn = nil
    end
    return self.sock:close()
end

--- Put the connection into the keepalive pool with its TLS state: a
-- later connect() of the same pool key takes both back and sslhandshake
-- skips the handshake.  Only without unread data (like the cosocket).
function TLS:setkeepalive(timeout, size)
    if not self.conn then return nil, "closed" end
    if #self.buf > 0 then return nil, "unread data in buffer" end
    if not self.pool then return nil, "not connected through the wrapper" end
    local ok, err = self.sock:setkeepalive(timeout, 1)
    if not ok then return nil, err end
    local list = parked[self.key] or {}
    parked[self.key] = list
    if size and #list >= size then
        local old = table.remove(list, 1)
        old.conn:free()
    end
    list[#list + 1] = { pool = self.pool, conn = self.conn, session = self.session, reused = self.reused }
    self.conn = nil
    return true
end

--- What was negotiated (ferrule's conn:info()).
function TLS:info() return self.conn and self.conn:info() end

return M
