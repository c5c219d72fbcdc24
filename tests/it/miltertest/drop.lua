-- drop.lua (it_milter_protocol.sh, case 5): a connection closed in the middle of a message body
-- (MODE=abrupt: the socket is closed; MODE=quit: QUIT, then close), then a new connection with a
-- complete message.
dofile(LIB .. "/common.lua")

local conn = open()
start(conn, {rcpts = {"support@example.test", "carol@example.test"}})
must(mt.data(conn), "DATA")
headers(conn, {{"Subject", "case 5 dropped " .. MODE}, {"Message-ID", "<case5-dropped-" .. MODE .. "@client.test>"}})
body(conn, {"dropped body, part one\r\n"})
mt.disconnect(conn, MODE == "quit")

conn = open()
message(conn, "after", {
    rcpts = {"sales@example.test"},
    headers = {{"Subject", "case 5 after " .. MODE}, {"Message-ID", "<case5-after-" .. MODE .. "@client.test>"}},
    body = {"after the " .. MODE .. " drop\r\n"},
})
mt.disconnect(conn)
