-- hang.lua (it_milter_protocol.sh, case 5): stops in the middle of a message body, creates the
-- file MARK and waits there to be killed.
dofile(LIB .. "/common.lua")

local conn = open()
start(conn, {rcpts = {"support@example.test"}})
must(mt.data(conn), "DATA")
headers(conn, {{"Subject", "case 5 killed"}, {"Message-ID", "<case5-killed@client.test>"}})
body(conn, {"killed body, part one\r\n"})
mark(MARK)
mt.sleep(120)
