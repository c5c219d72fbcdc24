-- abort.lua (it_milter_protocol.sh, case 4): a message aborted in its body, one aborted after
-- RCPT TO, then a complete message, all on one connection.
dofile(LIB .. "/common.lua")

local conn = open()
start(conn, {qid = "C4X", rcpts = {"support@example.test", "bob@example.test"}})
must(mt.data(conn), "DATA")
report("x.data", reply(conn))
headers(conn, {
    {"Subject", "case 4 aborted"},
    {"Message-ID", "<case4x@client.test>"},
    {"X-Aborted", "yes"},
})
body(conn, {"aborted body, part one\r\n"})
must(mt.abort(conn), "abort")

start(conn, {qid = "C4W", rcpts = {"help@example.test"}})
must(mt.abort(conn), "abort")

message(conn, "y", {
    qid = "C4Y",
    rcpts = {"sales@example.test"},
    headers = {{"Subject", "case 4 complete"}, {"Message-ID", "<case4y@client.test>"}},
    body = {"complete body\r\n"},
})
mt.disconnect(conn)
