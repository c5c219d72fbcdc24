-- two.lua (it_milter_protocol.sh, case 3): two messages on one connection, the second MAIL FROM
-- right after the first end of message.
dofile(LIB .. "/common.lua")

local conn = open()
message(conn, "a", {
    qid = "C3A",
    rcpts = {"support@example.test", "alice@example.test"},
    headers = {
        {"From", "First <first@client.test>"},
        {"Subject", "case 3 first"},
        {"Message-ID", "<case3a@client.test>"},
        {"X-Case3-First", "yes"},
    },
    body = {"first body\r\n"},
})
message(conn, "b", {
    qid = "C3B",
    from = "second@client.test",
    rcpts = {"sales@example.test"},
    headers = {
        {"From", "Second <second@client.test>"},
        {"Subject", "case 3 second"},
        {"Message-ID", "<case3b@client.test>"},
    },
    body = {"second body\r\n"},
})
mt.disconnect(conn)
