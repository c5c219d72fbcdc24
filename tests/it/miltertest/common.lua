-- common.lua: helpers for the miltertest(8) scripts of tests/it/it_milter_protocol.sh.
--
-- Each script starts with dofile(LIB .. "/common.lua"). Globals from the command line
-- (miltertest -D NAME=VALUE): SOCK, the milter's unix socket; LIB, this directory; the scripts'
-- own parameters (strings).
--
-- A script makes no judgement of its own about the milter: it reports what it saw as
-- "key=value" lines on standard output (reply names, eom_check results, the X-Intake-Id value)
-- and the shell test asserts on them. A protocol step that fails (write error, read timeout)
-- ends the script with error(), i.e. a non-zero exit status.
--
-- miltertest limits (Debian 2.11.0~beta2): mt.header, mt.rcptto, mt.mailfrom and mt.macro build
-- their packet in a 1024-byte stack buffer (mt.header does not check: longer headers overflow
-- it), and mt.header/mt.bodystring take C strings (no NUL bytes). mt.bodyfile sends a file as
-- it is, NUL bytes included, in chunks of 65536 bytes: more than libmilter takes in one packet
-- (65535), so only for files below that size. Large bodies go through mt.bodystring in chunks.

REPLY_NAMES = {
    [SMFIR_CONTINUE] = "continue",
    [SMFIR_ACCEPT] = "accept",
    [SMFIR_REJECT] = "reject",
    [SMFIR_TEMPFAIL] = "tempfail",
    [SMFIR_DISCARD] = "discard",
    [SMFIR_REPLYCODE] = "replycode",
}

-- reply(conn): the name of the last reply of the milter on conn.
function reply(conn)
    local r = mt.getreply(conn)
    return REPLY_NAMES[r] or string.format("0x%02x", math.floor(r))
end

function report(key, value)
    io.write(key, "=", tostring(value), "\n")
end

-- must(result, what): a miltertest call returns nil on success, an error text otherwise.
function must(result, what)
    if result ~= nil then
        error(what .. " failed: " .. tostring(result), 2)
    end
end

-- split(text): the comma-separated items of text (nil: none).
function split(text)
    local out = {}
    for item in string.gmatch(text or "", "[^,]+") do
        out[#out + 1] = item
    end
    return out
end

-- open([steps]): a new connection, negotiated (offering the protocol steps "steps", default
-- all of SMFI_CURR_PROT), with connection information and HELO sent.
function open(steps)
    local conn = mt.connect("unix:" .. SOCK)
    if conn == nil then
        error("cannot connect to " .. SOCK)
    end
    must(mt.negotiate(conn, nil, steps, nil), "negotiate")
    must(mt.conninfo(conn, "client.test", "192.0.2.7"), "connection information")
    must(mt.helo(conn, "client.test"), "HELO")
    return conn
end

-- start(conn, m): MAIL FROM (with the queue id macro m.qid, if given) and RCPT TO for each of
-- m.rcpts (addresses without angle brackets).
function start(conn, m)
    if m.qid then
        must(mt.macro(conn, SMFIC_MAIL, "i", m.qid), "macro i")
    end
    must(mt.mailfrom(conn, "<" .. (m.from or "sender@client.test") .. ">"), "MAIL FROM")
    for _, r in ipairs(m.rcpts) do
        must(mt.rcptto(conn, "<" .. r .. ">"), "RCPT TO " .. r)
    end
end

-- headers(conn, list): each {name, value} of list, then end of headers.
function headers(conn, list)
    for i, h in ipairs(list) do
        must(mt.header(conn, h[1], h[2]), "header " .. i .. " (" .. h[1] .. ")")
    end
    must(mt.eoh(conn), "end of headers")
end

-- body(conn, chunks): each string of chunks as one body chunk.
function body(conn, chunks)
    for i, c in ipairs(chunks) do
        must(mt.bodystring(conn, c), "body chunk " .. i)
    end
end

-- finish(conn, tag): end of message; reports TAG.eom (the reply), TAG.hdradd (an X-Intake-Id
-- header was added), TAG.xid (its value as sent, or "none") and TAG.hdrinsert.
function finish(conn, tag)
    must(mt.eom(conn), "end of message")
    local r = reply(conn)
    report(tag .. ".eom", r)
    report(tag .. ".hdradd", mt.eom_check(conn, MT_HDRADD, "X-Intake-Id"))
    report(tag .. ".hdrinsert", mt.eom_check(conn, MT_HDRINSERT, "X-Intake-Id"))
    report(tag .. ".xid", mt.getheader(conn, "X-Intake-Id", 0) or "none")
    return r
end

-- message(conn, tag, m): a whole transaction: start(), DATA (reply reported as TAG.data; the
-- message ends there unless it is "continue"), m.headers, m.body, finish().
function message(conn, tag, m)
    start(conn, m)
    must(mt.data(conn), "DATA")
    local d = reply(conn)
    report(tag .. ".data", d)
    if d ~= "continue" then
        return d
    end
    headers(conn, m.headers)
    body(conn, m.body)
    return finish(conn, tag)
end

-- mark(path): create the file path (tells the shell how far a script got).
function mark(path)
    local f = assert(io.open(path, "w"))
    f:write("reached\n")
    f:close()
end
