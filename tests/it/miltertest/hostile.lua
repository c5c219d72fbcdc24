-- hostile.lua (it_milter_protocol.sh, case 8): each on a connection of its own, to
-- support@example.test:
--   h1  2,000 header fields (the test's max_headers is 100)
--   h2  the 3,000,000-byte body of the file BIGBODY, in chunks of 60,000 bytes (max_message_size
--       is 1M, raw_max_size 512K)
--   h3  the body of the file NULBODY, NUL bytes included (mt.bodyfile: one chunk)
--   h4  8-bit bytes in header fields (Latin-1, undeclared), a folded header field (bare LF)
--   h5  1,500 recipients (max_recipients is 1000): support@ first, then user2..user1500@
-- (A 100 KB header line and NUL bytes in header values cannot go through miltertest: see
-- common.lua. The shell test sends those through Postfix.)
dofile(LIB .. "/common.lua")

local function one(tag, m, bodyfile)
    local conn = open()
    m.rcpts = m.rcpts or {"support@example.test"}
    start(conn, m)
    must(mt.data(conn), "DATA")
    report(tag .. ".data", reply(conn))
    headers(conn, m.headers)
    if bodyfile then
        must(mt.bodyfile(conn, bodyfile), "body file")
    else
        body(conn, m.body)
    end
    finish(conn, tag)
    mt.disconnect(conn)
end

local many = {{"Subject", "case 8 many headers"}, {"Message-ID", "<case8-headers@client.test>"}}
for i = 1, 1998 do
    many[#many + 1] = {"X-Filler-" .. i, "filler value " .. i}
end
one("h1", {headers = many, body = {"after 2000 header fields\r\n"}})

local chunks = {}
local f = assert(io.open(BIGBODY, "rb"))
while true do
    local c = f:read(60000)
    if c == nil then break end
    chunks[#chunks + 1] = c
end
f:close()
report("h2.chunks", #chunks)
one("h2", {
    headers = {{"Subject", "case 8 big body"}, {"Message-ID", "<case8-big@client.test>"}},
    body = chunks,
})

one("h3", {headers = {{"Subject", "case 8 nul body"}, {"Message-ID", "<case8-nul@client.test>"}}},
    NULBODY)

one("h4", {
    headers = {
        {"From", "J\xf6rg M\xfcller <joerg@client.test>"},
        {"Subject", "caf\xe9 \xff\xfe 8bit"},
        {"Message-ID", "<case8-8bit@client.test>"},
        {"X-Folded", "first\n\tsecond"},
    },
    body = {"8-bit header fields\r\n"},
})

local rcpts = {"support@example.test"}
for i = 2, 1500 do
    rcpts[#rcpts + 1] = "user" .. i .. "@example.test"
end
one("h5", {
    rcpts = rcpts,
    headers = {{"Subject", "case 8 many recipients"}, {"Message-ID", "<case8-rcpts@client.test>"}},
    body = {"1500 recipients\r\n"},
})
