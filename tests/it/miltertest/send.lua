-- send.lua (it_milter_protocol.sh): one message on a connection of its own.
--   TAG      prefix of the reported keys
--   RCPTS    recipients, comma-separated
--   SUBJECT, MSGID (without brackets); QID the queue id macro (optional)
--   TEMPFAIL reports TAG.reply451: the reply was "451 4.3.0 TEMPFAIL" (optional)
--   DELCHECK reports TAG.rcptdelete.ADDRESS for each of these addresses (optional)
dofile(LIB .. "/common.lua")

local conn = open()
message(conn, TAG, {
    qid = QID,
    rcpts = split(RCPTS),
    headers = {
        {"From", "Sender <sender@client.test>"},
        {"To", RCPTS},
        {"Subject", SUBJECT},
        {"Message-ID", "<" .. MSGID .. ">"},
    },
    body = {"Body of " .. MSGID .. "\r\n"},
})
if TEMPFAIL then
    report(TAG .. ".reply451", mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0", TEMPFAIL))
end
for _, a in ipairs(split(DELCHECK)) do
    report(TAG .. ".rcptdelete." .. a, mt.eom_check(conn, MT_RCPTDELETE, "<" .. a .. ">"))
end
mt.disconnect(conn)
