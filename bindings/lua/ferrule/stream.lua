-- ferrule/stream.lua - TLS over a stream socket with LuaSocket's calling
-- convention (sock:send(s) -> n | nil, err; sock:receive(n) -> s | nil,
-- err, partial): the record framing, the handshake loop, send and
-- LuaSocket-style receive, shared by ferrule.socket (LuaSocket) and
-- resty.ferrule (OpenResty cosockets).  Methods are mixed into an object
-- with fields `sock`, `conn` (a ferrule connection) and `buf` (received
-- plaintext not yet returned); an optional method `after_read` runs after
-- each attempt to read a record.
local S = {}

-- Send everything the connection has queued.
function S:flush()
    while true do
        local out, err = self.conn:take()
        if not out then return nil, err end
        if #out == 0 then return true end
        local n, serr = self.sock:send(out)
        if not n then return nil, serr end
    end
end

-- Read one record from the socket into the connection.  The header goes
-- in first, so that the library refuses a bad record (type, version,
-- length) before its body is waited for.
function S:pull()
    local hdr, err = self.sock:receive(5)
    if not hdr then
        if err == "closed" then
            self.conn:feed_eof()
            return true
        end
        return nil, err
    end
    local hn, herr = self.conn:feed(hdr)
    if not hn then return nil, herr end
    local pok, perr = self.conn:process()
    if not pok then return nil, perr end
    local len = hdr:byte(4) * 256 + hdr:byte(5)
    if len == 0 then return true end
    local body, berr, partial = self.sock:receive(len)
    if not body then
        if berr ~= "closed" then return nil, berr end
        self.conn:feed(partial or "")
        self.conn:feed_eof()
        return true
    end
    while #body > 0 do
        local n, ferr = self.conn:feed(body)
        if not n then return nil, ferr end
        body = body:sub(n + 1)
        if #body > 0 then -- the input buffer is full: let the connection process it
            local ok, e = self.conn:handshake()
            if not ok and e ~= "want-read" and e ~= "want-write" then return nil, e end
        end
    end
    return true
end

-- Drive the handshake to its end: true, or nil, err.
function S:run_handshake()
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

--- Send all of `data` (a string, or an array of strings as the cosocket
-- takes).  Returns the number of bytes sent, or nil, err.
function S:send(data)
    if type(data) == "table" then data = table.concat(data) end
    local done = 0
    while done < #data do
        local n, err = self.conn:write(done == 0 and data or data:sub(done + 1))
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

-- The next record's decrypted data, or nil, err.
function S:next_chunk()
    while true do
        local data, err = self.conn:read()
        if self.after_read then self:after_read() end
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

function S:fill()
    local data, err = self:next_chunk()
    if not data then return nil, err end
    self.buf = self.buf .. data
    return true
end

function S:take_buf()
    local s = self.buf
    self.buf = ""
    return s
end

--- Receive like LuaSocket and the cosocket: "*l" (a line, without its
-- end), "*a" (until the peer's close_notify), or a byte count; nil, err,
-- partial on failure.  A transport that ends without close_notify is an
-- error ("truncated: truncated").
function S:receive(pattern)
    pattern = pattern or "*l"
    if type(pattern) == "number" then
        -- Records are gathered and joined once: appending each to one
        -- string would copy the data again for every record.
        local parts, total = { self.buf }, #self.buf
        while total < pattern do
            local data, err = self:next_chunk()
            if not data then
                self.buf = table.concat(parts)
                return nil, err, self:take_buf()
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
            if not ok then return nil, err, self:take_buf() end
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
                if err == "closed" then return self:take_buf() end
                return nil, err, self:take_buf()
            end
        end
    end
    return nil, "bad pattern argument"
end

--- Mix these methods into the class table `T`.
function S.into(T)
    for k, v in pairs(S) do
        if k ~= "into" then T[k] = v end
    end
    return T
end

return S
