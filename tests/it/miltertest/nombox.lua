-- nombox.lua (it_milter_protocol.sh, case 2): a message with no mailbox recipient is accepted
-- at DATA; then, on the same connection, a message to a mailbox.
dofile(LIB .. "/common.lua")

local conn = open()
message(conn, "m1", {qid = "C2A", rcpts = {"alice@example.test"}})
message(conn, "m2", {
    qid = "C2B",
    rcpts = {"support@example.test"},
    headers = {{"Subject", "case 2 follow-up"}, {"Message-ID", "<case2b@client.test>"}},
    body = {"follow-up body\r\n"},
})
mt.disconnect(conn)
