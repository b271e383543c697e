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

local M = {}
local TLS = {}
TLS.__index = TLS

local function wrap(sock, conn, timeout)
    sock:settimeout(timeout)
    return setmetatable({ sock = sock, conn = conn, buf = "", timeout = timeout }, TLS)
end

-- Send everything the connection has queued.
function TLS:flush()
    while true do
        local out, err = self.conn:take()
        if not out then return nil, err end
        if #out == 0 then return true end
        local ok, serr = self.sock:send(out)
        if not ok then return nil, serr end
    end
end

-- Read one record from the socket into the connection.
function TLS:pull()
    local hdr, err = self.sock:receive(5)
    if not hdr then
        if err == "closed" then
            self.conn:feed_eof()
            return true
        end
        return nil, err
    end
    -- The header alone lets the library refuse a record (type, version,
    -- length) before its body is waited for.
    local hn, herr = self.conn:feed(hdr)
    if not hn then return nil, herr end
    local pok, perr = self.conn:process()
    if not pok then return nil, perr end
    local len = hdr:byte(4) * 256 + hdr:byte(5)
    local body = ""
    if len > 0 then
        local b, berr, partial = self.sock:receive(len)
        if not b then
            if berr ~= "closed" then return nil, berr end
            assert(self.conn:feed(partial or ""))
            self.conn:feed_eof()
            return true
        end
        body = b
    end
    local rec = body
    while #rec > 0 do
        local n, ferr = self.conn:feed(rec)
        if not n then return nil, ferr end
        rec = rec:sub(n + 1)
        if #rec > 0 then -- the input buffer is full: let the connection process it
            local ok, e = self.conn:handshake()
            if not ok and e ~= "want-read" and e ~= "want-write" then return nil, e end
        end
    end
    return true
end

--- Run the handshake (connect and accept call it).
function TLS:handshake()
    while true do
        local ok, err = self.conn:handshake()
        local fok, ferr = self:flush()
        if ok then
            if not fok then return nil, ferr end
            return true
        end
        if err ~= "want-read" and err ~= "want-write" then return nil, err end
        if not fok then return nil, ferr end
        if err == "want-read" then
            local pok, perr = self:pull()
            if not pok then return nil, perr end
        end
    end
end

--- Send all of `data`.  Returns the number of bytes sent, or nil, err.
function TLS:send(data)
    local done = 0
    while done < #data do
        local n, err = self.conn:write(data:sub(done + 1))
        if not n then
            self:flush()
            return nil, err
        end
        done = done + n
        local ok, ferr = self:flush()
        if not ok then return nil, ferr end
    end
    return done
end

-- Decrypted bytes into self.buf; false, err at the end.
-- The next record's decrypted data, or nil, err.
function TLS:next_chunk()
    while true do
        local data, err = self.conn:read()
        if data then
            self:flush() -- a KeyUpdate answer, if one is owed
            return data
        end
        if err ~= "want-read" then
            self:flush()
            return nil, err
        end
        local ok, perr = self:pull()
        if not ok then return nil, perr end
    end
end

function TLS:fill()
    local data, err = self:next_chunk()
    if not data then return nil, err end
    self.buf = self.buf .. data
    return true
end

--- Receive like LuaSocket: "*l" (a line, without its end), "*a" (until the
-- peer's close_notify), or a byte count.  A transport that ends without
-- close_notify is an error ("truncated: truncated").
function TLS:receive(pattern)
    pattern = pattern or "*l"
    if type(pattern) == "number" then
        -- Chunks are gathered and joined once: appending each record to
        -- one string would copy the data again for every record.
        local parts, total = { self.buf }, #self.buf
        while total < pattern do
            local data, err = self:next_chunk()
            if not data then
                self.buf = table.concat(parts)
                return nil, err, self:drain()
            end
            parts[#parts + 1] = data
            total = total + #data
        end
        local all = #parts == 1 and parts[1] or table.concat(parts)
        self.buf = all:sub(pattern + 1)
        return all:sub(1, pattern)
    elseif pattern == "*l" then
        while not self.buf:find("\n", 1, true) do
            local ok, err = self:fill()
            if not ok then return nil, err, self:drain() end
        end
        local i = self.buf:find("\n", 1, true)
        local line = self.buf:sub(1, i - 1):gsub("\r$", "")
        self.buf = self.buf:sub(i + 1)
        return line
    elseif pattern == "*a" then
        local parts = { self.buf }
        while true do
            local data, err = self:next_chunk()
            if data then
                parts[#parts + 1] = data
            else
                self.buf = table.concat(parts)
                if err == "closed" then return self:drain() end
                return nil, err, self:drain()
            end
        end
    end
    return nil, "bad pattern"
end

function TLS:drain()
    local s = self.buf
    self.buf = ""
    return s
end

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
