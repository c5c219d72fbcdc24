-- normal.lua (it_milter_protocol.sh, case 1): what the milter negotiates, then one message to a
-- mailbox in the normal order of steps: connect, HELO, MAIL, RCPT, DATA, headers, end of
-- headers, body, end of message. QID and MSGID: the queue id macro and the Message-ID (without
-- brackets); with NOLEADSPC set, the MTA does not offer SMFIP_HDR_LEADSPC.
dofile(LIB .. "/common.lua")

local steps = nil
if NOLEADSPC then
    steps = 0x1FFFFF - SMFIP_HDR_LEADSPC	-- SMFI_CURR_PROT without it
end
local conn = open(steps)
local options = {
    {"nr_conn", SMFIP_NR_CONN}, {"nr_helo", SMFIP_NR_HELO}, {"nr_mail", SMFIP_NR_MAIL},
    {"nr_rcpt", SMFIP_NR_RCPT}, {"nr_data", SMFIP_NR_DATA}, {"nr_hdr", SMFIP_NR_HDR},
    {"nr_eoh", SMFIP_NR_EOH}, {"nr_body", SMFIP_NR_BODY}, {"nounknown", SMFIP_NOUNKNOWN},
    {"leadspc", SMFIP_HDR_LEADSPC}, {"nohdrs", SMFIP_NOHDRS}, {"nobody", SMFIP_NOBODY},
    {"nodata", SMFIP_NODATA},
}
for _, o in ipairs(options) do
    report("opt." .. o[1], mt.test_option(conn, o[2]))
end
local actions = {
    {"addhdrs", SMFIF_ADDHDRS}, {"delrcpt", SMFIF_DELRCPT}, {"chghdrs", SMFIF_CHGHDRS},
    {"chgbody", SMFIF_CHGBODY}, {"addrcpt", SMFIF_ADDRCPT}, {"chgfrom", SMFIF_CHGFROM},
    {"quarantine", SMFIF_QUARANTINE}, {"setsymlist", SMFIF_SETSYMLIST},
}
for _, a in ipairs(actions) do
    report("act." .. a[1], mt.test_action(conn, a[2]))
end
message(conn, "n", {
    qid = QID,
    rcpts = {"support@example.test"},
    headers = {
        {"From", "Jane Doe <jane@client.test>"},
        {"To", "Support <support@example.test>"},
        {"Subject", "Protocol test 1"},
        {"Message-ID", "<" .. MSGID .. ">"},
    },
    body = {"Hello from case 1.\r\n", "Second line.\r\n"},
})
mt.disconnect(conn)
