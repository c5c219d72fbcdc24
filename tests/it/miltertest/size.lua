-- size.lua (it_milter_size.sh): one message of a given body size on a connection of its own.
--   TAG      prefix of the reported keys
--   RCPT     the recipient
--   SIZE     body bytes ("line NNNNNN\r\n" lines), sent in chunks of 8 KB
--   MAXSIZE  max_message_size, for the text of the 552 answer
--   TEMPFAIL the tempfail_text of the 451 answer
-- Reports TAG.eom (the reply), TAG.reply552 and TAG.reply451 (eom_check of the SMTP reply).
dofile(LIB .. "/common.lua")

local conn = open()
start(conn, {qid = "SIZE" .. TAG, rcpts = {RCPT}})
must(mt.data(conn), "DATA")
report(TAG .. ".data", reply(conn))
headers(conn, {
    {"From", "Sender <sender@client.test>"},
    {"Subject", "size " .. TAG},
    {"Message-ID", "<size-" .. TAG .. "@client.test>"},
})
local lines, n, size = {}, 0, tonumber(SIZE)
while n * 13 < size do
    lines[#lines + 1] = string.format("line %06d\r\n", n)
    n = n + 1
end
local text = table.concat(lines)
for off = 1, #text, 8192 do
    must(mt.bodystring(conn, string.sub(text, off, off + 8191)), "body chunk")
end
must(mt.eom(conn), "end of message")
report(TAG .. ".eom", reply(conn))
report(TAG .. ".reply552", mt.eom_check(conn, MT_SMTPREPLY, "552", "5.3.4",
    "Message too big for the ticket system (more than " .. MAXSIZE .. " bytes)"))
report(TAG .. ".reply451", mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0", TEMPFAIL))
mt.disconnect(conn)
