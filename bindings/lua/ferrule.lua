-- ferrule.lua - the LuaJIT FFI binding of ferrule's C library (TLS 1.3).
--
--   local ferrule = require "ferrule"
--   local cfg = assert(ferrule.config{ role = "client", trust_file = "root.pem" })
--   local c = assert(ferrule.conn(cfg, { server_name = "localhost" }))
--   -- sans-I/O: c:feed(bytes_from_peer), c:take() -> bytes_to_peer,
--   -- c:handshake(), c:read(), c:write(data) ...
--
-- Every call that can fail returns nil plus an error string of the form
-- "status: reason (alert N)" (e.g. "certificate: cert_expired (alert 45)"),
-- or "want-read" / "want-write" when the connection needs I/O first.
-- Configs are built once, shared by many connections and frozen once a
-- connection uses them; connections and configs are freed by ffi.gc
-- finalizers (conn:free() frees at once).  The library is loaded with
-- ffi.load(os.getenv("FERRULE_LIB") or "ferrule").
local ffi = require "ffi"
local defs = require "ferrule.cdef"

ffi.cdef(defs.cdef)
local K = defs.constants
local lib = ffi.load(os.getenv("FERRULE_LIB") or "ferrule")

local M = { constants = K, VERSION = ffi.string(lib.ferrule_version_string()) }

local u8p = ffi.typeof("uint8_t *")
local cu8pp = ffi.typeof("const uint8_t *[1]")
local u8pp = ffi.typeof("uint8_t *[1]")
local sizep = ffi.typeof("size_t[1]")

local status_names = {}
for k, v in pairs(K) do
    if type(v) == "number" and v >= 0 and v <= 12 and not k:find("_") then status_names[v] = k end
end

-- "status: reason (alert N)" for a status and the object that failed.
local function conn_error(c, st)
    if st == K.WANT_READ then return "want-read" end
    if st == K.WANT_WRITE then return "want-write" end
    if st == K.WANT_APP then return "want-app" end
    local msg = ffi.string(lib.ferrule_status_name(st))
    local reason = lib.ferrule_conn_reason(c)
    if reason ~= 0 then msg = msg .. ": " .. ffi.string(lib.ferrule_reason_name(reason)) end
    local alert, received = ffi.new("uint8_t[1]"), ffi.new("uint32_t[1]")
    if lib.ferrule_conn_get_alert(c, alert, received) == 1 then
        msg = msg .. " (alert " .. alert[0] .. " " .. ffi.string(lib.ferrule_alert_name(alert[0])) ..
                  (received[0] ~= 0 and ", received)" or ", sent)")
    end
    return msg
end

local function config_error(cfg, st, what)
    local msg = ffi.string(lib.ferrule_status_name(st))
    local reason = cfg ~= nil and lib.ferrule_config_reason(cfg) or 0
    if reason ~= 0 then msg = msg .. ": " .. ffi.string(lib.ferrule_reason_name(reason)) end
    return what .. ": " .. msg
end

-- ---- configs ---------------------------------------------------------------

local function code_list(names, from_name, what)
    local arr = ffi.new("uint16_t[?]", #names)
    for i, n in ipairs(names) do
        if type(n) == "number" then
            arr[i - 1] = n
        elseif from_name(n, arr + (i - 1)) ~= K.OK then
            return nil, what .. ": unknown name " .. tostring(n)
        end
    end
    return arr
end

local function read_file(path)
    local f, err = io.open(path, "rb")
    if not f then return nil, err end
    local s = f:read("*a")
    f:close()
    return s
end

local auth_modes = { none = K.CLIENT_AUTH_NONE, request = K.CLIENT_AUTH_REQUEST, require = K.CLIENT_AUTH_REQUIRE }

local function apply(cfg, o)
    local function try(st, what)
        if st ~= K.OK then error(config_error(cfg, st, what), 0) end
    end
    if o.suites then
        local arr, err = code_list(o.suites, lib.ferrule_cipher_suite_from_name, "suites")
        if not arr then error(err, 0) end
        try(lib.ferrule_config_set_cipher_suites(cfg, arr, #o.suites), "suites")
    end
    if o.groups then
        local arr, err = code_list(o.groups, lib.ferrule_group_from_name, "groups")
        if not arr then error(err, 0) end
        try(lib.ferrule_config_set_groups(cfg, arr, #o.groups), "groups")
    end
    for _, p in ipairs(o.alpn or {}) do try(lib.ferrule_config_add_alpn(cfg, p, #p), "alpn") end
    if o.trust_file then try(lib.ferrule_config_add_trust_file(cfg, o.trust_file), "trust_file") end
    if o.trust_pem then try(lib.ferrule_config_add_trust_pem(cfg, o.trust_pem, #o.trust_pem), "trust_pem") end
    if o.trust_system then try(lib.ferrule_config_add_trust_system(cfg), "trust_system") end
    for _, ch in ipairs(o.chains or {}) do
        local cert = ch.cert_pem or assert(read_file(ch.cert_file))
        local key = ch.key_pem or assert(read_file(ch.key_file))
        try(lib.ferrule_config_add_cert_chain_pem(cfg, cert, #cert, key, #key), "chain")
    end
    if o.client_auth then
        local m = auth_modes[o.client_auth]
        if not m then error("client_auth: none, request or require", 0) end
        try(lib.ferrule_config_set_client_auth(cfg, m), "client_auth")
    end
    if o.tickets then try(lib.ferrule_config_set_tickets(cfg, o.tickets), "tickets") end
    if o.insecure_no_verify then try(lib.ferrule_config_dangerous_no_verification(cfg), "insecure_no_verify") end
    if o.require_ocsp then try(lib.ferrule_config_set_ocsp_policy(cfg, K.OCSP_REQUIRE), "require_ocsp") end
    if o.early_data then
        local e = o.early_data == true and {} or o.early_data
        local opts = ffi.new("ferrule_early_data_options")
        opts.struct_size = ffi.sizeof(opts)
        opts.max_early_data_size = e.max_size or 0
        opts.window_ms = e.window_ms or 0
        opts.capacity = e.capacity or 0
        try(lib.ferrule_config_set_early_data(cfg, opts), "early_data")
    end
    if o.keylog then
        -- An FFI callback: for plain LuaJIT only.  LuaJIT refuses a
        -- callback out of a JIT-compiled FFI call, so the connection
        -- methods that can reach the key schedule run interpreted once any
        -- config logs keys.  (resty.ferrule refuses the option: a
        -- cosocket handshake must not run Lua callbacks.)
        if type(o.keylog) ~= "function" then error("keylog: a function(line)", 0) end
        local fn = o.keylog
        local cb = ffi.cast("void (*)(void *, const ferrule_conn *, const char *)", function(_, _, line)
            fn(ffi.string(line))
        end)
        try(lib.ferrule_config_set_keylog_callback(cfg, cb, nil), "keylog")
        M._keylog_callbacks = M._keylog_callbacks or {}
        M._keylog_callbacks[#M._keylog_callbacks + 1] = cb -- kept alive with the module
        for _, name in ipairs { "handshake", "read", "write", "process", "feed", "feed_eof", "take", "close",
                                "key_update", "write_early_data" } do
            jit.off(M.Conn[name], true)
        end
        jit.flush() -- traces compiled before now may hold those calls

    end
    if o.ticket_key then
        local name, key = o.ticket_key.name, o.ticket_key.key
        if #name ~= 16 or #key ~= 32 then error("ticket_key: name 16 bytes, key 32 bytes", 0) end
        try(lib.ferrule_config_set_ticket_key(cfg, name, key), "ticket_key")
    end
end

--- A config: `opts.role` "client" or "server", and the settings above.
-- Returns the config or nil, err.
function M.config(opts)
    local role = opts.role == "server" and K.ROLE_SERVER or opts.role == "client" and K.ROLE_CLIENT
    if not role then return nil, "config: role must be \"client\" or \"server\"" end
    local out = ffi.new("ferrule_config *[1]")
    local st = lib.ferrule_config_new(out, role, nil)
    if st ~= K.OK then return nil, config_error(nil, st, "config") end
    local cfg = ffi.gc(out[0], lib.ferrule_config_free)
    local ok, err = pcall(apply, cfg, opts)
    if not ok then return nil, err end
    return setmetatable({ cfg = cfg, role = opts.role }, { __index = {} })
end

-- ---- connections -----------------------------------------------------------

local Conn = {}
Conn.__index = Conn

--- A connection of `config`; `opts.server_name` (client) is sent in SNI
-- and verified.  Returns the connection or nil, err.
function M.conn(config, opts)
    opts = opts or {}
    local o = ffi.new("ferrule_conn_options")
    o.struct_size = ffi.sizeof(o)
    local name = opts.server_name
    if name then o.server_name = name end
    local out = ffi.new("ferrule_conn *[1]")
    local st = lib.ferrule_conn_new(out, config.cfg, o)
    if st ~= K.OK then return nil, config_error(config.cfg, st, "conn") end
    local self = setmetatable({
        c = ffi.gc(out[0], lib.ferrule_conn_free), config = config, server_name = name,
        p = cu8pp(), mp = u8pp(), n = sizep(),
    }, Conn)
    return self
end

function Conn:free()
    if self.c ~= nil then
        lib.ferrule_conn_free(ffi.gc(self.c, nil))
        self.c = nil
    end
end

--- Give ciphertext received from the peer; returns the number of bytes
-- taken (drive the connection and feed the rest later), or nil, err.
function Conn:feed(data)
    local st = lib.ferrule_conn_input_buf(self.c, self.mp, self.n)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    local k = math.min(#data, tonumber(self.n[0]))
    if k > 0 then ffi.copy(self.mp[0], data, k) end
    st = lib.ferrule_conn_input_ack(self.c, k)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return k
end

--- The transport reached its end.
function Conn:feed_eof()
    local st = lib.ferrule_conn_feed_eof(self.c)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return true
end

--- Ciphertext waiting to be sent, as a string ("" when none); it is
-- dropped from the connection.
function Conn:take()
    local st = lib.ferrule_conn_output_buf(self.c, self.p, self.n)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    local n = tonumber(self.n[0])
    local s = n > 0 and ffi.string(self.p[0], n) or ""
    st = lib.ferrule_conn_output_ack(self.c, n)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return s
end

--- Bytes waiting to be sent.
function Conn:pending()
    return tonumber(lib.ferrule_conn_pending_output(self.c))
end

--- Advance the handshake: true once complete, else nil, err
-- ("want-read", "want-write", "want-app" or a failure).
function Conn:handshake()
    local st = lib.ferrule_conn_handshake(self.c)
    if st == K.OK then return true end
    return nil, conn_error(self.c, st)
end

--- Drive the connection over what it holds (handshake and records up
-- to the first application data) without moving data: true, or nil, err
-- once it failed (e.g. on a bad record header, before its body arrived).
function Conn:process()
    local consumed, written, flags = sizep(), sizep(), ffi.new("uint32_t[1]")
    local st = lib.ferrule_conn_process(self.c, nil, 0, consumed, nil, 0, written, flags)
    if st == K.OK or st == K.WANT_APP then return true end
    return nil, conn_error(self.c, st)
end

--- Decrypted application data (one record's, at most `max` bytes), or
-- nil, err: "want-read", "closed" after the peer's close_notify, or a
-- failure ("truncated: truncated" when the transport ended without one).
function Conn:read(max)
    local st = lib.ferrule_conn_read_buf(self.c, self.p, self.n)
    if st == K.OK then
        local n = tonumber(self.n[0])
        if max and max < n then n = max end
        local s = ffi.string(self.p[0], n)
        lib.ferrule_conn_read_ack(self.c, n)
        return s
    end
    if st == K.CLOSED then return nil, "closed" end
    return nil, conn_error(self.c, st)
end

--- Queue application data; returns the bytes taken (all of it or what
-- fits: take() then write the rest), or nil, err.
function Conn:write(data)
    local n = sizep()
    local st = lib.ferrule_conn_write(self.c, data, #data, n)
    if st == K.OK or (st == K.WANT_WRITE and n[0] > 0) then return tonumber(n[0]) end
    return nil, conn_error(self.c, st)
end

--- Queue close_notify.
function Conn:close()
    local st = lib.ferrule_conn_close(self.c)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return true
end

--- Queue a KeyUpdate (RFC 8446 §4.6.3), asking the peer to update too
-- when `request_peer`.
function Conn:key_update(request_peer)
    local st = lib.ferrule_conn_key_update(self.c, request_peer and 1 or 0)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return true
end

--- The FERRULE_FLAG_* bits (what the connection needs next).
function Conn:flags() return lib.ferrule_conn_flags(self.c) end

--- Client: the newest session (a string to keep, e.g. in a shared dict),
-- or nil, err before a ticket arrived.
function Conn:session()
    local n = sizep()
    local st = lib.ferrule_conn_session(self.c, nil, 0, n)
    if st ~= K.USAGE or lib.ferrule_conn_reason(self.c) ~= K.R_BUFFER_TOO_SMALL then
        return nil, conn_error(self.c, st)
    end
    local buf = ffi.new("uint8_t[?]", n[0])
    st = lib.ferrule_conn_session(self.c, buf, n[0], n)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return ffi.string(buf, n[0])
end

--- Client, before the handshake: offer a session from session().
function Conn:set_session(blob)
    local st = lib.ferrule_conn_set_session(self.c, blob, #blob)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return true
end

--- Client, before the handshake: send data as 0-RTT.  `replay_safe` must
-- be true: the caller declares the data may be delivered twice.
function Conn:write_early_data(data, replay_safe)
    if replay_safe ~= true then return nil, "usage: early data must be declared replay-safe" end
    local n = sizep()
    local st = lib.ferrule_conn_write_early_data(self.c, data, #data, K.EARLY_DATA_REPLAY_SAFE, n)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return tonumber(n[0])
end

--- RFC 8446 §7.5 exporter.
function Conn:export(label, context, len)
    local out = ffi.new("uint8_t[?]", len)
    context = context or ""
    local st = lib.ferrule_conn_export_keying_material(self.c, label, #label, context, #context, out, len)
    if st ~= K.OK then return nil, conn_error(self.c, st) end
    return ffi.string(out, len)
end

local early_names = { [K.EARLY_NOT_OFFERED] = "not-offered", [K.EARLY_ACCEPTED] = "accepted",
                      [K.EARLY_REJECTED] = "rejected", [K.EARLY_OFFERED] = "offered" }

--- What was negotiated: version, suite and group names, alpn, server
-- name, resumed, hrr, early_data, and the peer's certificates (DER).
function Conn:info()
    local c = self.c
    local t = {
        version = lib.ferrule_conn_version(c),
        suite = ffi.string(lib.ferrule_cipher_suite_name(lib.ferrule_conn_cipher_suite(c))),
        group = ffi.string(lib.ferrule_group_name(lib.ferrule_conn_group(c))),
        resumed = lib.ferrule_conn_resumed(c) == 1,
        hrr = lib.ferrule_conn_hrr(c) == 1,
        early_data = early_names[tonumber(lib.ferrule_conn_early_data_status(c))],
        key_updates_sent = tonumber(lib.ferrule_conn_key_updates_sent(c)),
        key_updates_received = tonumber(lib.ferrule_conn_key_updates_received(c)),
        memory = tonumber(lib.ferrule_conn_memory_used(c)),
        peer_certs = {},
    }
    lib.ferrule_conn_alpn(c, self.p, self.n)
    if self.n[0] > 0 then t.alpn = ffi.string(self.p[0], self.n[0]) end
    local name = lib.ferrule_conn_server_name(c)
    if name ~= nil then t.server_name = ffi.string(name) end
    for i = 0, tonumber(lib.ferrule_conn_peer_cert_count(c)) - 1 do
        if lib.ferrule_conn_peer_cert(c, i, self.p, self.n) == K.OK then
            t.peer_certs[#t.peer_certs + 1] = ffi.string(self.p[0], self.n[0])
        end
    end
    return t
end

--- The connection's error string (as the failing call returned it).
function Conn:error()
    local st = lib.ferrule_conn_status(self.c)
    if st == K.OK then return nil end
    return conn_error(self.c, st)
end

M.Conn = Conn
return M
